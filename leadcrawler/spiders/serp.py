"""Discovery through search engines: ``site:`` dorks per platform and niche.

  scrapy crawl serp -a query="confeitaria" [-a platforms=kiwify,hubla,hotmart]
                    [-a engine=searxng|brave|duckduckgo] [-a pages=N]
  scrapy crawl serp -a queries_file=niches.txt ...   (one niche per line)

Every platform's dorks (``platforms.toml``) are combined with every niche; result pages
are followed up to ``pages``. Only product-page URLs of the chosen platforms are kept,
canonicalised, and yielded as :class:`~leadcrawler.domain.items.DiscoveredUrl` for the frontier
stage. A blocked engine (CAPTCHA, rate limit, unresponsive upstream engines, JSON API
disabled, robots.txt refusal) is counted under ``serp/blocked/<engine>/<reason>`` and
logged as a warning: it is never mistaken for "no results" (``serp/no_results``).

Settings: ``SERP_DEFAULT_ENGINE``, ``SERP_SEARXNG_URL``, ``SERP_BRAVE_API_KEY_ENV`` (the
name of the environment variable holding the Brave key), ``SERP_MAX_PAGES``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.domain.platforms import Platform, load_platforms
from leadcrawler.extraction.discovery import SerpPage, keep_platform_url
from leadcrawler.spiders.base import UsageError
from leadcrawler.spiders.engines import BraveEngine, DuckDuckGoEngine, SearxngEngine

logger = logging.getLogger(__name__)


class Engine(Protocol):
    name: str

    def request(self, query: str, page: int) -> scrapy.Request: ...

    def parse(self, response: Response) -> SerpPage: ...


class SerpSpider(scrapy.Spider):
    name = "serp"
    # Engines answer errors (403, 429) that say "blocked": let them reach the callback.
    custom_settings = {"HTTPERROR_ALLOWED_CODES": [401, 403, 429]}

    def __init__(
        self,
        query: str | None = None,
        queries_file: str | None = None,
        platforms: str = "kiwify,hubla,hotmart",
        engine: str | None = None,
        pages: str | int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = {
            "query": query,
            "queries_file": queries_file,
            "platforms": platforms,
            "engine": engine,
            "pages": pages,
        }
        self.niches = self._read_niches(query, queries_file)
        known = load_platforms()
        chosen = [p.strip() for p in platforms.split(",") if p.strip()]
        unknown = [p for p in chosen if p not in known]
        if unknown or not chosen:
            raise UsageError(f"unknown platform(s) {unknown}; known: {', '.join(known)}")
        self.platforms: dict[str, Platform] = {key: known[key] for key in chosen}
        try:
            self.pages = int(pages)
        except ValueError:
            raise UsageError(f"pages must be a whole number, not {pages!r}") from None
        if self.pages < 1:
            raise UsageError("pages must be at least 1")
        self.engine_name = engine
        self.engine: Engine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.pages = min(spider.pages, settings.getint("SERP_MAX_PAGES"))
        spider.engine = spider._build_engine(spider.engine_name or settings["SERP_DEFAULT_ENGINE"])
        return spider

    def _build_engine(self, name: str) -> Engine:
        settings = self.crawler.settings
        if name == "searxng":
            base = settings.get("SERP_SEARXNG_URL")
            if not base:
                raise UsageError("engine searxng needs SERP_SEARXNG_URL (your instance's URL)")
            return SearxngEngine(base)
        if name == "brave":
            variable = settings.get("SERP_BRAVE_API_KEY_ENV")
            key = os.environ.get(variable, "")
            if not key:
                raise UsageError(f"engine brave needs the API key in ${variable}")
            return BraveEngine(key)
        if name == "duckduckgo":
            return DuckDuckGoEngine()
        raise UsageError(f"unknown engine {name!r}: searxng, brave or duckduckgo")

    @staticmethod
    def _read_niches(query: str | None, queries_file: str | None) -> list[str]:
        niches = [query.strip()] if query and query.strip() else []
        if queries_file:
            path = Path(queries_file)
            if not path.is_file():
                raise UsageError(f"queries_file {queries_file!r} does not exist")
            niches += [
                line.split("#", 1)[0].strip()
                for line in path.read_text("utf-8").splitlines()
                if line.split("#", 1)[0].strip()
            ]
        if not niches:
            raise UsageError('serp needs -a query="<nicho>" or -a queries_file=PATH')
        return list(dict.fromkeys(niches))

    def dorks(self) -> Iterator[str]:
        for niche in self.niches:
            for platform in self.platforms.values():
                for dork in platform.dorks:
                    yield f"{dork} {niche}"

    async def start(self) -> AsyncIterator[Any]:
        for query in self.dorks():
            yield self._page_request(query, 1)

    def _page_request(self, query: str, page: int) -> scrapy.Request:
        assert self.engine is not None
        request = self.engine.request(query, page)
        return request.replace(
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"query": query, "page": page},
            dont_filter=True,
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        assert self.engine is not None
        query: str = kwargs["query"]
        page: int = kwargs["page"]
        result = self.engine.parse(response)
        if result.blocked:
            self._inc(f"blocked/{self.engine.name}/{result.blocked}")
            logger.warning(
                "%s gave no real answer for %r page %d: %s (not counted as no results)",
                self.engine.name,
                query,
                page,
                result.blocked,
            )
            return
        if not result.urls:
            self._inc("no_results")
            return
        self._inc("results", len(result.urls))
        for url in result.urls:
            kept = keep_platform_url(url, self.platforms)
            if kept is None:
                self._inc("discarded")
                continue
            self._inc("kept")
            platform, canonical = kept
            yield DiscoveredUrl(platform, canonical, f"serp:{self.engine.name}", query)
        if result.has_more and page < self.pages:
            yield self._page_request(query, page + 1)

    def on_error(self, failure: Failure) -> None:
        assert self.engine is not None
        if failure.check(IgnoreRequest) and "robots" in failure.getErrorMessage().lower():
            reason = "robots_txt"
        else:
            reason = failure.type.__name__ if failure.type else "error"
        self._inc(f"blocked/{self.engine.name}/{reason}")
        logger.warning(
            "%s refused or failed %s: %s",
            self.engine.name,
            failure.request.url,  # type: ignore[attr-defined]
            failure.getErrorMessage(),
        )

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"serp/{key}", count)
