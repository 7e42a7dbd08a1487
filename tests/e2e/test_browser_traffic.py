"""Chromium sends nothing of its own: only the rendered page and its resources reach the web."""

from __future__ import annotations

import shutil

from fixtureweb import FixtureWeb
from tests.conftest import service_missing


def test_rendering_sends_no_background_traffic(
    run_crawl, fixture_web: FixtureWeb, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("chromium") is None:
        service_missing("Chromium (apt-get install chromium)")
    fixture_web.clear_requests()
    result = run_crawl("kiwify", sqlite_url, "urls=https://pay.kiwify.com.br/Js4Rend")
    assert result.returncode == 0, result.log[-3000:]
    assert "'kiwify/extract/render/seller': 1" in result.log  # the browser did render it
    hosts = {host for _method, host, _path in fixture_web.requests}
    tunnels = set(fixture_web.tunnels)
    print("requests:", sorted(fixture_web.requests), "tunnels:", sorted(tunnels))
    # Scrapy fetched robots.txt and the page; Chromium fetched the page again. Nobody else.
    assert hosts == {"pay.kiwify.com.br"}, fixture_web.requests
    assert tunnels == {"pay.kiwify.com.br"}, tunnels
    paths = sorted(path for _m, _h, path in fixture_web.requests)
    assert set(paths) <= {"/robots.txt", "/Js4Rend", "/favicon.ico"}, paths


def test_one_disable_features_switch_carries_every_feature() -> None:
    from leadcrawler.browser import browser_args

    args = browser_args(
        {
            "RENDER_BROWSER_ARGS": ["--no-first-run", "--disable-features=Foo"],
            "RENDER_BROWSER_DISABLED_FEATURES": ["AutofillServerCommunication", "PaintHolding"],
        }
    )
    switches = [a for a in args if a.startswith("--disable-features=")]
    assert switches == ["--disable-features=AutofillServerCommunication,PaintHolding,Foo"]
    assert "--no-first-run" in args
