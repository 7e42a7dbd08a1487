"""The base of the platform spiders: which URLs to crawl and how failures are counted.

Arguments every platform spider takes:
  ``-a urls=URL[,URL...]``   crawl these pages;
  ``-a urls_file=PATH``      crawl the URLs in PATH, one per line (``#`` starts a comment).

URLs that are not product pages of the spider's platform are skipped and counted, and
query strings are dropped before anything is requested: on checkout links they carry
affiliate ids and a buyer's prefilled e-mail, name, phone or CPF.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from leadcrawler.platforms import Platform, canonical_platform_url, load_platforms

logger = logging.getLogger(__name__)


class UsageError(ValueError):
    """A spider argument is missing or wrong; the message says how to fix it."""


class PlatformSpider(scrapy.Spider):
    platform_key: ClassVar[str]

    def __init__(
        self, urls: str | None = None, urls_file: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = {"urls": urls, "urls_file": urls_file, **kwargs}
        self.platform: Platform = load_platforms()[self.platform_key]
        self.input_urls = list(self._read_urls(urls, urls_file))
        if not self.input_urls:
            raise UsageError(
                f"{self.name}: give the pages to crawl with -a urls=URL[,URL...] "
                "or -a urls_file=PATH"
            )

    @staticmethod
    def _read_urls(urls: str | None, urls_file: str | None) -> Iterable[str]:
        if urls:
            yield from (u.strip() for u in urls.split(",") if u.strip())
        if urls_file:
            path = Path(urls_file)
            if not path.is_file():
                raise UsageError(f"urls_file {urls_file!r} does not exist")
            for line in path.read_text("utf-8").splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    yield line

    async def start(self) -> AsyncIterator[Any]:
        seen: set[str] = set()
        for url in self.input_urls:
            if self.platform.product_id(url) is None:
                self._inc("input/not_a_product_page")
                logger.warning("Skipping %s: not a %s product page", url, self.platform.name)
                continue
            canonical = canonical_platform_url(url)
            if canonical in seen:
                self._inc("input/duplicate")
                continue
            seen.add(canonical)
            yield scrapy.Request(canonical, callback=self.parse, errback=self.on_error)

    def on_error(self, failure: Failure) -> None:
        if failure.check(HttpError):
            response: Response = failure.value.response
            status = response.status
            if status in (404, 410):
                self._inc("page/gone")
                logger.info("Gone (%s): %s", status, response.url)
            else:
                self._inc(f"page/http_{status}")
            return
        self._inc(f"page/error/{failure.type.__name__ if failure.type else 'unknown'}")
        logger.warning("Failed %s: %s", failure.request.url, failure.getErrorMessage())  # type: ignore[attr-defined]

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{self.platform_key}/{key}", count)
