"""Rendering with a real browser (scrapy-playwright), the last rung of the extraction ladder.

Only requests that need it use the browser: a platform spider re-requests a page with
``meta["playwright"] = True`` when structured data, embedded state and text patterns
found nothing. :func:`render_settings` wires scrapy-playwright into a crawl:

- the browser executable comes from ``RENDER_BROWSER_PATH``, else ``$LEADCRAWLER_CHROMIUM``,
  else the first of ``chromium``/``chromium-browser``/``google-chrome`` on the PATH (Debian's
  ``/usr/bin/chromium``), else Playwright's own download (``playwright install chromium``);
- the browser uses the same ``https_proxy``/``http_proxy`` as plain requests (and
  ``no_proxy`` as its bypass list), so a corporate proxy or the fixture web works for both;
- contexts and pages are bounded (``PLAYWRIGHT_MAX_CONTEXTS``,
  ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT``) and images, media and fonts are never downloaded.

- the browser makes no traffic of its own: background networking, component updates, sync,
  metrics upload, autofill and sign-in are off (``RENDER_BROWSER_ARGS``,
  ``RENDER_BROWSER_DISABLED_FEATURES``); only the page and its resources are requested.

Settings: ``RENDER_ENABLED``, ``RENDER_BROWSER_PATH``, ``RENDER_BROWSER_ARGS``,
``RENDER_BROWSER_DISABLED_FEATURES``.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
from collections.abc import Callable, Mapping
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from leadcrawler.connections import bound_pool
from leadcrawler.middlewares import SSRFBlocked, SSRFGuardMiddleware

PLAYWRIGHT_HANDLER = "leadcrawler.browser.GuardedPlaywrightHandler"
BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
HEAVY_RESOURCES = frozenset({"image", "media", "font"})


def find_browser(configured: str | None, env: Mapping[str, str]) -> str | None:
    """The Chromium executable to use, or None to let Playwright use its own download."""
    if configured:
        return configured
    if env.get("LEADCRAWLER_CHROMIUM"):
        return env["LEADCRAWLER_CHROMIUM"]
    for name in BROWSER_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def proxy_option(env: Mapping[str, str]) -> dict[str, str] | None:
    server = (
        env.get("https_proxy")
        or env.get("HTTPS_PROXY")
        or env.get("http_proxy")
        or env.get("HTTP_PROXY")
    )
    if not server:
        return None
    option = {"server": server}
    bypass = env.get("no_proxy") or env.get("NO_PROXY")
    if bypass:
        option["bypass"] = bypass
    return option


def render_settings(
    settings: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The Scrapy settings that turn rendering on for one crawl (empty when disabled)."""
    if not settings.get("RENDER_ENABLED"):
        return {}
    env = os.environ if env is None else env
    handlers = dict(settings.get("DOWNLOAD_HANDLERS") or {})
    handlers.update(http=PLAYWRIGHT_HANDLER, https=PLAYWRIGHT_HANDLER)
    launch: dict[str, Any] = dict(settings.get("PLAYWRIGHT_LAUNCH_OPTIONS") or {})
    launch.setdefault("headless", True)
    launch.setdefault("args", browser_args(settings))
    executable = find_browser(settings.get("RENDER_BROWSER_PATH"), env)
    if executable:
        launch.setdefault("executable_path", executable)
    proxy = proxy_option(env)
    if proxy:
        launch.setdefault("proxy", proxy)
    return {"DOWNLOAD_HANDLERS": handlers, "PLAYWRIGHT_LAUNCH_OPTIONS": launch}


def browser_args(settings: Mapping[str, Any]) -> list[str]:
    """``RENDER_BROWSER_ARGS`` plus one ``--disable-features`` switch (Chromium honours only
    the last one it is given, so every feature to disable must be in it)."""
    args = [a for a in settings.get("RENDER_BROWSER_ARGS") or () if a]
    features = list(dict.fromkeys(settings.get("RENDER_BROWSER_DISABLED_FEATURES") or ()))
    given = [a for a in args if a.startswith("--disable-features=")]
    for arg in given:
        features += [f for f in arg.split("=", 1)[1].split(",") if f and f not in features]
    args = [a for a in args if a not in given]
    if features:
        args.append("--disable-features=" + ",".join(features))
    return args


def abort_heavy_requests(request: Any) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: skip images, media and fonts (nothing to extract there)."""
    return bool(request.resource_type in HEAVY_RESOURCES)


class GuardedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler with the SSRF guard on every request the browser makes.

    Scrapy's downloader middlewares see only the first request of a rendered page; the
    page's own navigations (``location.replace``, ``<meta http-equiv=refresh>``), its
    ``fetch()``/XHR calls, iframes, scripts and WebSockets are made by Chromium. Each of
    them passes the same rules as a plain request (:class:`SSRFGuardMiddleware`, with
    ``SSRF_ALLOWLIST``) before it leaves the browser; a refused one is aborted and counted
    as ``leadcrawler/render/aborted/<reason>`` (besides ``leadcrawler/ssrf/blocked/<reason>``).
    Service workers are blocked: their requests would bypass the route.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        bound_pool(self, crawler)  # plain requests keep few idle connections (connections.py)
        self.ssrf: SSRFGuardMiddleware | None = None
        if crawler.settings.getbool("SSRF_ENABLED"):
            self.ssrf = SSRFGuardMiddleware.from_crawler(crawler)
        self._configured_abort: Callable[[Any], Any] | None = getattr(self, "abort_request", None)
        self.abort_request = self._abort

    async def _abort(self, request: Any) -> bool:
        if self._configured_abort is not None:
            verdict = self._configured_abort(request)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict:
                return True
        return await self.refused(request.url)

    async def refused(self, url: str) -> bool:
        """True (and counted) when the SSRF rules refuse ``url``."""
        if self.ssrf is None:
            return False
        try:
            await self.ssrf.process_request(Request(url))
        except SSRFBlocked as exc:
            self.stats.inc_value(f"leadcrawler/render/aborted/{exc.reason}")
            return True
        except (ValueError, OSError, IgnoreRequest) as exc:  # unparsable, unresolvable
            self.stats.inc_value(f"leadcrawler/render/aborted/{type(exc).__name__}")
            return True
        return False

    async def _create_browser_context(
        self, name: str, context_kwargs: dict[str, Any] | None, spider: Any = None
    ) -> Any:
        context_kwargs = {**(context_kwargs or {}), "service_workers": "block"}
        wrapper = await super()._create_browser_context(name, context_kwargs, spider)
        await wrapper.context.route_web_socket("**", self._guard_websocket)
        return wrapper

    async def _guard_websocket(self, ws: Any) -> None:
        url = re.sub(r"^ws", "http", ws.url, count=1)
        if await self.refused(url):
            await ws.close()
        else:
            ws.connect_to_server()
