"""Hostile checkout pages that make the browser reach private addresses (issue 14, item 1).

Each page sends Chromium somewhere private after its script runs: ``location.replace``,
``fetch()``, an ``<iframe>``, a meta refresh written by the script. The fixture web answers
for those private hosts too (so without the guard the browser would get there and the page
it landed on would be stored); here nothing reaches them and nothing from them is stored.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from fixtureweb import FixtureWeb
from tests.conftest import FIXTURES, service_missing
from tests.e2e.test_e2e_kiwify import leads
from tests.e2e.test_faults import stat

PRIVATE_HOSTS = {"169.254.169.254", "10.0.0.1", "192.168.0.1"}
PAGES = ["Rd1Meta", "Rd2Fetc", "Rd3Fram", "Rd4Refr", "Rd5Away"]


@pytest.fixture(scope="module")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "hostile") as web:
        yield web


def test_the_browser_reaches_no_private_address_and_stores_nothing_from_one(
    run_crawl, fixture_web: FixtureWeb, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("chromium") is None:
        service_missing("Chromium (apt-get install chromium)")
    fixture_web.clear_requests()
    urls = ",".join(f"https://pay.kiwify.com.br/{page}" for page in PAGES)
    result = run_crawl("kiwify", sqlite_url, f"urls={urls}")
    assert result.returncode == 0, result.log[-3000:]
    assert "'kiwify/extract/render/requested': 5" in result.log, result.log[-3000:]
    reached = {host for _method, host, _path in fixture_web.requests}
    assert reached & PRIVATE_HOSTS == set(), fixture_web.requests
    # Every attempt was refused and counted; the script's navigation left nothing to read.
    assert "'leadcrawler/render/aborted/link_local'" in result.log
    assert "'leadcrawler/render/aborted/private'" in result.log
    # A public page the script navigated to is not the checkout's producer either.
    assert ("GET", "www.vitrine-alheia.com.br", "/") in fixture_web.requests
    # The three pages whose script navigates away are never read: normally Chromium lands on
    # the new page and it is refused as having left the host; on a loaded machine Chromium may
    # instead fail the navigation the guard aborted, and the render is a page error. Either
    # way nothing of them is read (and no lead is stored: below).
    left = stat(result.log, "kiwify/extract/render/left_host")
    failed = stat(result.log, "kiwify/page/error/Error")
    assert left >= 2 and left + failed == 3, result.log[-3000:]
    assert leads(sqlite_url) == []
    assert "segredo" not in result.log and "Servidor Interno" not in result.log
