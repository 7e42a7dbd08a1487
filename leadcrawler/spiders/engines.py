"""Search engines for the serp spider: the request for one results page, and its reading.

Each engine builds the Scrapy request for a page of results and hands the answer to its
reader in :mod:`leadcrawler.extraction.discovery`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response, TextResponse

from leadcrawler.extraction.discovery import SerpPage, read_brave, read_duckduckgo, read_searxng


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
        return read_searxng(response.status, response.body)


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
        return read_brave(response.status, response.body)


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
        html = response.text if isinstance(response, TextResponse) else None
        return read_duckduckgo(response.status, response.url, html)
