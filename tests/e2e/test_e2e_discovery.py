"""Discovery end to end: serp and wayback fill the frontier; a platform spider drains it."""

from __future__ import annotations

from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.models import FrontierUrl
from leadcrawler.storage.store import open_store
from tests.e2e.test_e2e_kiwify import leads

SEARXNG = "-sSERP_SEARXNG_URL=https://busca.fixtures.com.br"


def frontier_rows(database_url: str) -> dict[str, FrontierUrl]:
    store = open_store(database_url)
    with store.sessions() as session:
        rows = {row.url: row for row in session.query(FrontierUrl).all()}
    store.engine.dispose()
    return rows


def test_serp_to_frontier_to_hotmart_to_the_base(run_crawl, fixture_web, database_url: str) -> None:  # type: ignore[no-untyped-def]
    fixture_web.reset_sequences()
    serp = run_crawl(
        "serp", database_url, "query=confeitaria", "platforms=hotmart", "pages=3", SEARXNG
    )
    assert serp.returncode == 0, serp.log[-3000:]
    rows = frontier_rows(database_url)
    assert set(rows) == {
        "https://pay.hotmart.com/A90981729A",  # query string dropped
        "https://pay.hotmart.com/B84064307J",
        "https://pay.hotmart.com/U94091102A",
    }
    row = rows["https://pay.hotmart.com/A90981729A"]
    assert (row.platform, row.discovered_by, row.query, row.status) == (
        "hotmart",
        "serp:searxng",
        "site:pay.hotmart.com confeitaria",
        "pending",
    )
    log = serp.log
    assert "'serp/kept': 3" in log
    assert "'serp/discarded': 2" in log  # a blog post and a login page
    # Page 2 came back empty with unresponsive engines: blocked, not "no results".
    assert "'serp/blocked/searxng/unresponsive_engines': 1" in log
    assert "serp/no_results" not in log

    crawl = run_crawl("hotmart", database_url)
    assert crawl.returncode == 0, crawl.log[-3000:]
    statuses = {url: row.status for url, row in frontier_rows(database_url).items()}
    assert statuses == {
        "https://pay.hotmart.com/A90981729A": "done",
        "https://pay.hotmart.com/B84064307J": "done",
        "https://pay.hotmart.com/U94091102A": "gone",
    }
    names = {row["name"] for row in leads(database_url)}
    assert {"Ana D'Ávila", "Educação Financeira Ltda"} <= names

    again = run_crawl("serp", database_url, "query=confeitaria", "platforms=hotmart", SEARXNG)
    assert again.returncode == 0
    assert len(frontier_rows(database_url)) == 3  # found again: no duplicate, last_seen moves


def test_duckduckgo_robots_refusal_is_obeyed_and_reported(
    run_crawl, fixture_web, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("serp", sqlite_url, "query=yoga", "platforms=kiwify", "engine=duckduckgo")
    assert result.returncode == 0, result.log[-3000:]
    assert "'serp/blocked/duckduckgo/robots_txt': 2" in result.log  # both Kiwify dorks
    assert not any(
        path.startswith("/html/")
        for _m, host, path in fixture_web.requests
        if host == "html.duckduckgo.com"
    )


def test_wayback_pages_through_resume_keys(run_crawl, fixture_web, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    fixture_web.reset_sequences()
    result = run_crawl("wayback", sqlite_url, "platform=kiwify")
    assert result.returncode == 0, result.log[-3000:]
    rows = frontier_rows(sqlite_url)
    assert set(rows) == {
        "https://pay.kiwify.com.br/Fn8kQ2z",
        "https://pay.kiwify.com.br/7rTbW3x",
        "https://kiwify.app/aNa7Vnd",
        "https://pay.kiwify.com.br/Lm4Np0q",
        "https://pay.kiwify.com.br/pX4sD2f",
    }
    assert {row.discovered_by for row in rows.values()} == {"wayback"}
    assert "'wayback/pages': 1" in result.log  # one resume key followed
    assert FrontierStore(open_store(sqlite_url).engine).counts("kiwify") == {"pending": 5}


def test_bad_discovery_arguments_are_clear(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    no_engine = run_crawl("serp", sqlite_url, "query=yoga", "engine=google")
    assert no_engine.returncode != 0
    assert "unknown engine 'google'" in no_engine.log
    no_url = run_crawl("serp", sqlite_url, "query=yoga")
    assert "engine searxng needs SERP_SEARXNG_URL" in no_url.log
    no_platform = run_crawl("wayback", sqlite_url)
    assert "wayback needs -a platform=" in no_platform.log
