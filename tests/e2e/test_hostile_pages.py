"""Crafted pages that break a parser cost one rung, never the lead (issue 14, item 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES
from tests.e2e.test_e2e_kiwify import leads


@pytest.fixture(scope="module")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "hostile") as web:
        yield web


@pytest.mark.parametrize(
    ("spider", "url", "name"),
    [
        ("kiwify", "https://pay.kiwify.com.br/Ld1Deep", "Clara Menezes Doces"),
        ("hubla", "https://pay.hub.la/Ld2DeepHublaPage0001", "Beatriz Fontes"),
    ],
)
def test_json_ld_of_100000_brackets_skips_the_block_and_keeps_the_lead(
    run_crawl, sqlite_url: str, spider: str, url: str, name: str
) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl(spider, sqlite_url, f"urls={url}", "-sRENDER_ENABLED=False")
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log and "RecursionError" not in result.log
    assert f"'{spider}/extract/bad_state/jsonld': 1" in result.log
    [lead] = leads(sqlite_url)
    assert lead["name"] == name  # the og:/author meta beside the crafted block still count


def test_a_frontier_url_the_ssrf_guard_refuses_is_never_retried(
    run_crawl, fixture_web: FixtureWeb, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    store = open_store(sqlite_url)
    frontier = FrontierStore(store.engine)
    frontier.add([DiscoveredUrl("kiwify", "https://kiwify.app/Ss1Rfrd", "wayback")])
    result = run_crawl("kiwify", sqlite_url, "limit=5")
    assert result.returncode == 0, result.log[-3000:]
    assert "'leadcrawler/ssrf/blocked/private': 1" in result.log
    assert ("GET", "10.0.0.1", "/") not in fixture_web.requests
    # "never" (README): gone at once, not failed-and-pending for FRONTIER_MAX_ATTEMPTS runs.
    assert frontier.counts("kiwify") == {"gone": 1}
    store.engine.dispose()
