"""Search engines and filters for discovery: turning search results into frontier URLs.

Each engine builds the request for one results page and reads its answer into a
:class:`SerpPage`: the result URLs, whether another page may follow, and — kept apart
from "no results" — whether the engine was blocked (CAPTCHA, rate limit, every upstream
engine unresponsive, a disabled JSON API). Only URLs of a known platform's product pages
survive :func:`keep_platform_url`, canonicalised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from leadcrawler.domain.platforms import Platform, canonical_platform_url, platform_for_url


@dataclass(slots=True)
class SerpPage:
    urls: list[str] = field(default_factory=list)
    blocked: str | None = None  # why the engine gave no real answer
    has_more: bool = False


class SearxngEngine:
    """A SearXNG instance's JSON API (``format=json`` must be enabled on the instance)."""

    name = "searxng"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(self, query: str, page: int) -> Request:
        params = urlencode({"q": query, "format": "json", "pageno": page})
        # The operator's own instance, used as an API: it may live on 127.0.0.1, and its
        # robots.txt (meant for crawlers of its result pages) does not apply to its owner.
        return Request(
            f"{self.base_url}/search?{params}",
            meta={"ssrf_allow": True, "dont_obey_robotstxt": True},
        )

    def parse(self, response: Response) -> SerpPage:
        if response.status == 403:
            return SerpPage(blocked="json_disabled")
        if response.status == 429:
            return SerpPage(blocked="rate_limited")
        data = _json(response)
        if not isinstance(data, dict):
            return SerpPage(blocked="not_json")
        results = data.get("results") or []
        urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]
        if not urls and data.get("unresponsive_engines"):
            # Empty results with unresponsive engines means "blocked", not "nothing".
            return SerpPage(blocked="unresponsive_engines")
        return SerpPage(urls=urls, has_more=bool(urls))


class BraveEngine:
    """Brave Search API (``X-Subscription-Token`` from the environment)."""

    name = "brave"
    endpoint = "https://api.search.brave.com/res/v1/web/search"
    count = 20  # results per page, the API's maximum

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def request(self, query: str, page: int) -> Request:
        params = urlencode({"q": query, "count": self.count, "offset": page - 1})
        return Request(
            f"{self.endpoint}?{params}",
            headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
            meta={"dont_obey_robotstxt": True},  # a keyed API, not a crawled site
        )

    def parse(self, response: Response) -> SerpPage:
        if response.status in (401, 403):
            return SerpPage(blocked="bad_api_key")
        if response.status == 429:
            return SerpPage(blocked="rate_limited")
        data = _json(response)
        if not isinstance(data, dict):
            return SerpPage(blocked="not_json")
        web = data.get("web") or {}
        results = web.get("results") or [] if isinstance(web, dict) else []
        urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]
        more = bool((data.get("query") or {}).get("more_results_available", bool(urls)))
        return SerpPage(urls=urls, has_more=more and bool(urls))


class DuckDuckGoEngine:
    """DuckDuckGo's HTML endpoint; obeys its robots.txt like every request."""

    name = "duckduckgo"
    endpoint = "https://html.duckduckgo.com/html/"
    per_page = 30

    def request(self, query: str, page: int) -> Request:
        params = {"q": query, "kl": "br-pt"}
        if page > 1:
            params["s"] = str((page - 1) * self.per_page)
        return Request(f"{self.endpoint}?{urlencode(params)}")

    def parse(self, response: Response) -> SerpPage:
        if response.status in (403, 429):
            return SerpPage(blocked=f"http_{response.status}")
        if not isinstance(response, TextResponse):
            return SerpPage(blocked="not_html")
        if response.css("form#challenge-form, #challenge-form"):
            return SerpPage(blocked="captcha")
        urls = []
        for href in response.css("div.web-result a.result__a::attr(href)").getall():
            target = _ddg_target(response.urljoin(href))
            if target:
                urls.append(target)
        more = bool(response.css("input[name=s], .nav-link form"))
        return SerpPage(urls=urls, has_more=more and bool(urls))


def _ddg_target(href: str) -> str | None:
    """``//duckduckgo.com/l/?uddg=<target>`` -> target; plain links as they are."""
    parts = urlsplit(href)
    if parts.hostname and parts.hostname.endswith("duckduckgo.com") and parts.path == "/l/":
        target = parse_qs(parts.query).get("uddg")
        return target[0] if target else None
    return href if parts.scheme in ("http", "https") else None


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def keep_platform_url(url: str, platforms: dict[str, Platform]) -> tuple[str, str] | None:
    """``(platform key, canonical URL)`` when ``url`` is a product page of one of ``platforms``."""
    platform = platform_for_url(url)
    if platform is None or platform.key not in platforms:
        return None
    if platform.product_id(url) is None:
        return None
    return platform.key, canonical_platform_url(url)


def cdx_rows(data: Any) -> tuple[list[dict[str, str]], str | None]:
    """Rows of a Wayback CDX JSON answer (first row = header) and its resume key.

    With ``showResumeKey=true`` the answer ends with an empty row and ``[resumeKey]``.
    """
    if not isinstance(data, list) or not data or not isinstance(data[0], list):
        return [], None
    header = [str(h) for h in data[0]]
    rows: list[dict[str, str]] = []
    resume: str | None = None
    body = data[1:]
    for index, row in enumerate(body):
        if row == []:
            tail = body[index + 1 :]
            if tail and isinstance(tail[0], list) and tail[0]:
                resume = str(tail[0][0])
            break
        if isinstance(row, list) and len(row) == len(header):
            rows.append(dict(zip(header, (str(v) for v in row), strict=True)))
    return rows, resume
