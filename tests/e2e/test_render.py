"""The browser rung: a JS-only checkout is re-requested through Chromium and read."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.browser import PLAYWRIGHT_HANDLER, find_browser, proxy_option, render_settings
from tests.conftest import FIXTURES, ROOT, service_missing
from tests.e2e.test_e2e_kiwify import leads


def test_browser_is_found_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert find_browser("/opt/chrome", {"LEADCRAWLER_CHROMIUM": "/x"}) == "/opt/chrome"
    assert find_browser(None, {"LEADCRAWLER_CHROMIUM": "/x"}) == "/x"
    assert find_browser(None, {}) in {
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    }


def test_the_browser_uses_the_same_proxy_as_plain_requests() -> None:
    assert proxy_option({"https_proxy": "http://proxy:3128", "no_proxy": "localhost"}) == {
        "server": "http://proxy:3128",
        "bypass": "localhost",
    }
    assert proxy_option({"HTTP_PROXY": "http://p:1"}) == {"server": "http://p:1"}
    assert proxy_option({}) is None


def test_render_settings_keep_the_disabled_handlers() -> None:
    base = {
        "RENDER_ENABLED": True,
        "DOWNLOAD_HANDLERS": {"file": None, "ftp": None},
        "RENDER_BROWSER_ARGS": ["--no-first-run"],
        "RENDER_BROWSER_PATH": "/usr/bin/chromium",
    }
    wired = render_settings(base, env={"http_proxy": "http://127.0.0.1:9"})
    assert wired["DOWNLOAD_HANDLERS"] == {
        "file": None,
        "ftp": None,
        "http": PLAYWRIGHT_HANDLER,
        "https": PLAYWRIGHT_HANDLER,
    }
    assert wired["PLAYWRIGHT_LAUNCH_OPTIONS"] == {
        "headless": True,
        "args": ["--no-first-run"],
        "executable_path": "/usr/bin/chromium",
        "proxy": {"server": "http://127.0.0.1:9"},
    }
    assert render_settings({**base, "RENDER_ENABLED": False}) == {}


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        service_missing("Chromium (apt-get install chromium)")
    return str(path)


def test_a_js_only_checkout_is_read_after_rendering(
    chromium: str, run_crawl, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl(
        "kiwify",
        sqlite_url,
        "urls=https://pay.kiwify.com.br/Js4Rend,https://pay.kiwify.com.br/e0RfT1y",
    )
    assert result.returncode == 0, result.log[-3000:]
    log = result.log
    assert "'kiwify/extract/render/requested': 2" in log
    assert "'kiwify/extract/render/seller': 1" in log
    assert "'kiwify/extract/no_lead': 1" in log  # the empty shell stays empty, rendered or not
    assert "'playwright/page_count'" in log
    [lead] = leads(sqlite_url)
    assert lead["name"] == "Lia Castro Ateliê"
    [offer] = lead["offers"]
    assert str(offer["price_brl"]) == "89.90"
    assert offer["product_name"] == "Aquarela Botânica do Zero"


def test_pages_that_need_no_browser_never_start_one(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("kiwify", sqlite_url, "urls=https://pay.kiwify.com.br/Fn8kQ2z")
    assert result.returncode == 0
    assert "playwright/browser_count" not in result.log


def test_js_only_pages_on_hubla_and_hotmart_are_rendered(
    chromium: str, run_crawl, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    hubla = run_crawl("hubla", sqlite_url, "urls=https://pay.hub.la/JsRenderHubla2026abc")
    assert hubla.returncode == 0, hubla.log[-3000:]
    assert "'hubla/extract/render/requested': 1" in hubla.log
    hotmart = run_crawl("hotmart", sqlite_url, "urls=https://pay.hotmart.com/R20261125Z")
    assert hotmart.returncode == 0, hotmart.log[-3000:]
    assert "'hotmart/extract/render/requested': 1" in hotmart.log
    names = {lead["name"] for lead in leads(sqlite_url)}
    assert names == {"Oficina de Ukulele do Beto", "Grande Mestra Lívia Prates"}


NEED_THE_BROWSER = ("Js4Rend", "e0RfT1y")  # nothing but a script says who sells them
STATIC = ("Fn8kQ2z", "3hJk9Lp", "Lm4Np0q")  # the producer is in the page as served


def test_the_browser_renders_each_page_that_needs_it_once_and_no_other(
    chromium: str, sqlite_url: str, tmp_path: Path
) -> None:
    # I/O per unit (issue 12): renders per page that needed one is 1.0, and 0 for the rest.
    # The crawl's own fixture web, so its request log holds this crawl's requests only.
    urls = [f"https://pay.kiwify.com.br/{i}" for i in (*NEED_THE_BROWSER, *STATIC)]
    with FixtureWeb(FIXTURES / "web") as web:
        env = {**os.environ, **web.proxy_env(), "SCRAPY_PROJECT": "test"}
        env["DATABASE_URL"] = sqlite_url
        env.pop("SCRAPY_SETTINGS_MODULE", None)
        spill = f"PERSIST_SPILL_DIR={tmp_path / 'unsaved'}"
        command = [sys.executable, "-m", "scrapy", "crawl", "kiwify"]
        command += ["-a", "urls=" + ",".join(urls), "-s", spill]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        fetched = collections.Counter(
            path for method, host, path in web.requests if host == "pay.kiwify.com.br"
        )
    log = done.stderr
    assert done.returncode == 0, log[-3000:]
    # The spider asked for a render of exactly the pages that need one, and Chromium opened
    # one page for each: renders / pages that needed one = 2 / 2.
    assert f"'kiwify/extract/render/requested': {len(NEED_THE_BROWSER)}" in log
    assert f"'playwright/page_count': {len(NEED_THE_BROWSER)}" in log
    assert f"'playwright/request_count/navigation': {len(NEED_THE_BROWSER)}" in log
    # Seen from the server: a page that needs the browser is fetched once plainly and once by
    # Chromium; a page that does not is fetched once, and never by the browser.
    for page in NEED_THE_BROWSER:
        assert fetched[f"/{page}"] == 2, fetched
    for page in STATIC:
        assert fetched[f"/{page}"] == 1, fetched
    names = {lead["name"] for lead in leads(sqlite_url)}
    assert "Lia Castro Ateliê" in names  # the rendered one was read
    assert len(names) == 1 + len(STATIC)
