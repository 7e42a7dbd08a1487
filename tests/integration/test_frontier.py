"""The shared frontier: discovery fills it, platform spiders drain it and report outcomes."""

from __future__ import annotations

from datetime import timedelta

from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.storage.frontier import FrontierStore, Outcome
from leadcrawler.storage.models import FrontierUrl
from leadcrawler.storage.store import open_store
from tests.e2e.test_e2e_kiwify import ALL_URLS, EXPECTED, leads
from tests.support.chain import run_chain
from tests.support.factories import T0


def frontier(database_url: str, **kwargs: float) -> FrontierStore:
    return FrontierStore(open_store(database_url).engine, **kwargs)  # type: ignore[arg-type]


def found(url: str, minutes: int = 0) -> DiscoveredUrl:
    return DiscoveredUrl(
        "kiwify", url, "serp:searxng", "confeitaria", T0 + timedelta(minutes=minutes)
    )


def test_adding_is_idempotent_and_claims_are_oldest_first(database_url: str) -> None:
    store = frontier(database_url)
    assert (
        store.add(
            [
                found("https://pay.kiwify.com.br/BBBBBBB", 2),
                found("https://pay.kiwify.com.br/AAAAAAA", 1),
            ]
        )
        == 2
    )
    assert (
        store.add(
            [
                found("https://pay.kiwify.com.br/AAAAAAA", 9),
                found("https://pay.kiwify.com.br/CCCCCCC", 3),
            ]
        )
        == 1
    )
    assert store.claim("kiwify", 2, now=T0 + timedelta(hours=1)) == [
        "https://pay.kiwify.com.br/AAAAAAA",
        "https://pay.kiwify.com.br/BBBBBBB",
    ]
    # Claimed URLs are not handed to a second run within the claim TTL...
    assert store.claim("kiwify", 10, now=T0 + timedelta(hours=1, minutes=5)) == [
        "https://pay.kiwify.com.br/CCCCCCC"
    ]
    assert store.claim("hotmart", 10) == []
    # ...but come back after it, if the run that took them died without reporting.
    assert len(store.claim("kiwify", 10, now=T0 + timedelta(hours=3))) == 3
    store.engine.dispose()


def test_outcomes_move_urls_through_their_states(database_url: str) -> None:
    store = frontier(database_url, max_attempts=2)
    urls = [f"https://pay.kiwify.com.br/U{i:06d}" for i in range(4)]
    store.add([found(u, i) for i, u in enumerate(urls)])
    store.claim("kiwify", 4, now=T0)
    store.report(
        [
            (urls[0], Outcome.DONE, None),
            (urls[1], Outcome.GONE, "HTTP 404"),
            (urls[2], Outcome.FAILED, "TimeoutError"),
            (urls[3], Outcome.DEFERRED, "circuit open"),
        ]
    )
    assert store.counts() == {"done": 1, "gone": 1, "pending": 2}
    # The deferred URL is claimable at once (no attempt counted); the failed one after the TTL.
    assert store.claim("kiwify", 10, now=T0 + timedelta(minutes=1)) == [urls[3]]
    store.report([(urls[2], Outcome.FAILED, "TimeoutError")])
    assert store.counts()["failed"] == 1  # two failed attempts: given up


def test_the_frontier_stage_records_discovered_urls(database_url: str) -> None:
    stats = run_chain(database_url, [found(u) for u in ALL_URLS] + [found(ALL_URLS[0])])
    assert stats["leadcrawler/frontier/new"] == len(ALL_URLS)
    assert stats["leadcrawler/frontier/seen_again"] == 1
    assert frontier(database_url).counts() == {"pending": len(ALL_URLS)}


def test_a_spider_without_urls_drains_its_platform_frontier(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    store = frontier(sqlite_url)
    store.add([found(u, i) for i, u in enumerate(ALL_URLS)])
    store.add([DiscoveredUrl("hotmart", "https://pay.hotmart.com/A12345678B", "wayback")])

    first = run_crawl("kiwify", sqlite_url, "limit=3")
    assert first.returncode == 0, first.log[-2000:]
    assert "'kiwify/frontier/claimed': 3" in first.log
    rest = run_crawl("kiwify", sqlite_url)
    assert rest.returncode == 0, rest.log[-2000:]
    counts = store.counts("kiwify")
    assert counts.get("pending", 0) == 0, rest.log[-6000:]
    assert counts["gone"] == 2  # the removed product (404) and its short link
    assert counts["done"] == len(ALL_URLS) - 2
    assert store.counts("hotmart") == {"pending": 1}  # other platforms' URLs are left alone
    producers = {c["producer"] for c in EXPECTED["checkouts"] if c.get("producer")}
    assert {row["name"] for row in leads(sqlite_url)} == producers

    again = run_crawl("kiwify", sqlite_url)
    assert again.returncode == 0
    assert "Took 0 pending Kiwify URL(s)" in again.log  # nothing loops on done or dead pages
    store.engine.dispose()


def test_urls_of_a_domain_whose_circuit_opened_stay_pending(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    store = frontier(sqlite_url)
    failing = [f"https://pay.kiwify.com.br/Err500{c}" for c in "abcdefgh"]
    store.add([found(u, i) for i, u in enumerate(failing)])
    result = run_crawl(
        "kiwify", sqlite_url, "-sCONCURRENT_REQUESTS_PER_DOMAIN=1", "-sCIRCUIT_BREAKER_COOLDOWN=600"
    )
    assert result.returncode == 0, result.log[-3000:]
    assert "'leadcrawler/circuit_breaker/opened': 1" in result.log
    with store.sessions() as session:
        rows = session.query(FrontierUrl).all()
    assert {row.status for row in rows} == {"pending"}  # nothing given up on a paused domain
    tried = [row for row in rows if row.attempts == 1]
    deferred = [row for row in rows if row.attempts == 0]
    assert tried and deferred  # the circuit opened part-way: the rest were never tried
    assert all(row.last_attempt_at is None for row in deferred)  # claimable by the next run
    store.engine.dispose()
