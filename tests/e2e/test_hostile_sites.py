"""A site that carries many identities is a directory, not one producer (issue 14, item 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES
from tests.e2e.test_e2e_kiwify import leads


@pytest.fixture(scope="module")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "hostile") as web:
        yield web


def test_a_blog_linking_60_checkouts_and_10000_mailtos_is_a_directory(
    run_crawl, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("site", sqlite_url, "urls=https://www.blogdoscursos.com.br/")
    assert result.returncode == 0, result.log[-3000:]
    [blog] = leads(sqlite_url)
    # The checkouts it recommends are not the blog owner's: none is an offer (or a key).
    assert blog["offers"] == []
    # Its own address is kept; the 10,000 readers on the contact page are not.
    emails = {c["value"] for c in blog["contacts"] if c["kind"] == "email"}
    assert emails == {"editor@blogdoscursos.com.br"}
    assert "'leadcrawler/enrich/site/directory_page/checkouts': 1" in result.log
    assert "'leadcrawler/enrich/site/directory_page/contacts': 1" in result.log
    # Each checkout is queued for its own page to say whose it is.
    store = open_store(sqlite_url)
    assert FrontierStore(store.engine).counts("kiwify") == {"pending": 60}
    store.engine.dispose()
