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


SEARX_PAGED = "-sSERP_SEARXNG_URL=https://searx.fixtures.com.br"
KIWIFY_DORK = "site:pay.kiwify.com.br confeitaria"


def test_serp_reads_every_result_page_by_default(run_crawl, fixture_web, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    """The README's command, no pages given: every sales link the engine returns is found."""
    result = run_crawl("serp", sqlite_url, "query=confeitaria", "platforms=kiwify", SEARX_PAGED)
    assert result.returncode == 0, result.log[-3000:]
    assert set(frontier_rows(sqlite_url)) == {
        "https://pay.kiwify.com.br/Bol0Pt1",
        "https://pay.kiwify.com.br/Bol0Pt2",
        "https://pay.kiwify.com.br/Bol0Pt3",  # page 2
        "https://pay.kiwify.com.br/Bol0Pt4",
        "https://pay.kiwify.com.br/Bol0Pt5",  # page 3
        "https://kiwify.app/Doce0A1",
    }
    searched = [path for _m, host, path in fixture_web.requests if host == "searx.fixtures.com.br"]
    # Page 4 repeated page 3: nothing new, so the dork stopped there and no page 5 was asked.
    assert sum("pageno=4" in p and "pay.kiwify" in p for p in searched) == 1
    assert not any("pageno=5" in p for p in searched)
    log = result.log
    assert f"'serp/dork/{KIWIFY_DORK}/pages': 4" in log
    assert f"'serp/dork/{KIWIFY_DORK}/kept': 5" in log
    assert f"'serp/dork/{KIWIFY_DORK}/stopped/no_new_results': 1" in log
    assert "'serp/dork/site:kiwify.app confeitaria/stopped/last_page': 1" in log  # page 2 empty


def test_serp_pages_argument_still_caps(run_crawl, fixture_web, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl(
        "serp", sqlite_url, "query=confeitaria", "platforms=kiwify", "pages=2", SEARX_PAGED
    )
    assert result.returncode == 0, result.log[-3000:]
    rows = set(frontier_rows(sqlite_url))
    assert "https://pay.kiwify.com.br/Bol0Pt4" in rows
    assert "https://pay.kiwify.com.br/Bol0Pt5" not in rows  # page 3 never read
    assert f"'serp/dork/{KIWIFY_DORK}/stopped/max_pages': 1" in result.log


def test_serp_max_pages_setting_caps_the_default(run_crawl, fixture_web, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl(
        "serp",
        sqlite_url,
        "query=confeitaria",
        "platforms=kiwify",
        "-sSERP_MAX_PAGES=1",
        SEARX_PAGED,
    )
    assert result.returncode == 0, result.log[-3000:]
    assert "https://pay.kiwify.com.br/Bol0Pt3" not in set(frontier_rows(sqlite_url))
    assert f"'serp/dork/{KIWIFY_DORK}/pages': 1" in result.log
