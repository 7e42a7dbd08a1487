"""Reading discovery answers: search results and web-archive rows into frontier URLs.

Each search engine's answer is read into a :class:`SerpPage`: the result URLs, whether
another page may follow, and — kept apart from "no results" — whether the engine was
blocked (CAPTCHA, rate limit, every upstream engine unresponsive, a disabled JSON API).
Only URLs of a known platform's product pages survive :func:`keep_platform_url`,
canonicalised. The engines that build the requests are the Scrapy side's
(:mod:`leadcrawler.spiders.engines`); the readers here take the status and the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

from leadcrawler.domain.platforms import Platform, canonical_platform_url, platform_for_url


@dataclass(slots=True)
class SerpPage:
    urls: list[str] = field(default_factory=list)
    blocked: str | None = None  # why the engine gave no real answer
    has_more: bool = False


def read_searxng(status: int, body: bytes) -> SerpPage:
    """A SearXNG JSON answer."""
    if status == 403:
        return SerpPage(blocked="json_disabled")
    if status == 429:
        return SerpPage(blocked="rate_limited")
    data = _json(body)
    if not isinstance(data, dict):
        return SerpPage(blocked="not_json")
    results = data.get("results") or []
    urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]
    if not urls and data.get("unresponsive_engines"):
        # Empty results with unresponsive engines means "blocked", not "nothing".
        return SerpPage(blocked="unresponsive_engines")
    return SerpPage(urls=urls, has_more=bool(urls))


def read_brave(status: int, body: bytes) -> SerpPage:
    """A Brave Search API answer."""
    if status in (401, 403):
        return SerpPage(blocked="bad_api_key")
    if status == 429:
        return SerpPage(blocked="rate_limited")
    data = _json(body)
    if not isinstance(data, dict):
        return SerpPage(blocked="not_json")
    web = data.get("web") or {}
    results = web.get("results") or [] if isinstance(web, dict) else []
    urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str)]
    more = bool((data.get("query") or {}).get("more_results_available", bool(urls)))
    return SerpPage(urls=urls, has_more=more and bool(urls))


def read_duckduckgo(status: int, url: str, html: str | None) -> SerpPage:
    """A DuckDuckGo HTML results page; ``html`` None when the answer was not text."""
    if status in (403, 429):
        return SerpPage(blocked=f"http_{status}")
    if html is None:
        return SerpPage(blocked="not_html")
    page = Selector(text=html)
    if page.css("form#challenge-form, #challenge-form"):
        return SerpPage(blocked="captcha")
    urls = []
    for href in page.css("div.web-result a.result__a::attr(href)").getall():
        target = _ddg_target(urljoin(url, href))
        if target:
            urls.append(target)
    more = bool(page.css("input[name=s], .nav-link form"))
    return SerpPage(urls=urls, has_more=more and bool(urls))


def _ddg_target(href: str) -> str | None:
    """``//duckduckgo.com/l/?uddg=<target>`` -> target; plain links as they are."""
    parts = urlsplit(href)
    if parts.hostname and parts.hostname.endswith("duckduckgo.com") and parts.path == "/l/":
        target = parse_qs(parts.query).get("uddg")
        return target[0] if target else None
    return href if parts.scheme in ("http", "https") else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
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
