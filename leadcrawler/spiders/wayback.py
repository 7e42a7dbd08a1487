"""Discovery through the Wayback Machine's CDX API: archived product pages of a platform.

  scrapy crawl wayback -a platform=kiwify [-a limit=N]

For each of the platform's hosts, pages through
``<WAYBACK_CDX_URL>?url=<host>/*&output=json&fl=original,timestamp,statuscode``
``&collapse=urlkey&filter=statuscode:200&limit=<page size>&showResumeKey=true``, following
the resume key until the answer has none or ``limit`` URLs were kept. Product-page URLs
are canonicalised and yielded as :class:`~leadcrawler.domain.items.DiscoveredUrl`.

Settings: ``WAYBACK_CDX_URL``, ``WAYBACK_PAGE_SIZE``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.domain.platforms import load_platforms
from leadcrawler.extraction.discovery import cdx_rows, keep_platform_url
from leadcrawler.spiders.base import UsageError

logger = logging.getLogger(__name__)


class WaybackSpider(scrapy.Spider):
    name = "wayback"

    def __init__(
        self, platform: str | None = None, limit: str | int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = {"platform": platform, "limit": limit}
        known = load_platforms()
        if platform not in known:
            raise UsageError(f"wayback needs -a platform=<{'|'.join(known)}>")
        self.platform = known[platform]
        try:
            self.limit = int(limit) if limit is not None else None
        except ValueError:
            raise UsageError(f"limit must be a whole number, not {limit!r}") from None
        self.kept = 0
        self.seen: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        for host in self.platform.hosts:
            yield self._cdx_request(host, None)

    def _cdx_request(self, host: str, resume_key: str | None) -> scrapy.Request:
        settings = self.crawler.settings
        params: dict[str, Any] = {
            "url": f"{host}/*",
            "output": "json",
            "fl": "original,timestamp,statuscode",
            "collapse": "urlkey",
            "filter": "statuscode:200",
            "limit": settings.getint("WAYBACK_PAGE_SIZE"),
            "showResumeKey": "true",
        }
        if resume_key:
            params["resumeKey"] = resume_key
        return scrapy.Request(
            f"{settings['WAYBACK_CDX_URL']}?{urlencode(params)}",
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"host": host},
            dont_filter=True,
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        host: str = kwargs["host"]
        if self.limit is not None and self.kept >= self.limit:
            return
        try:
            data = json.loads(response.body)
        except ValueError:
            self._inc("bad_answer")
            logger.warning("The CDX API answered something that is not JSON for %s", host)
            return
        rows, resume_key = cdx_rows(data)
        self._inc("rows", len(rows))
        platforms = {self.platform.key: self.platform}
        for row in rows:
            kept = keep_platform_url(row.get("original", ""), platforms)
            if kept is None:
                self._inc("discarded")
                continue
            _platform, canonical = kept
            if canonical in self.seen:
                continue
            self.seen.add(canonical)
            self.kept += 1
            self._inc("kept")
            yield DiscoveredUrl(self.platform.key, canonical, "wayback", None)
            if self.limit is not None and self.kept >= self.limit:
                return
        if resume_key:
            self._inc("pages")
            yield self._cdx_request(host, resume_key)

    def on_error(self, failure: Failure) -> None:
        self._inc(f"error/{failure.type.__name__ if failure.type else 'unknown'}")
        logger.warning("CDX request failed: %s", failure.getErrorMessage())

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"wayback/{key}", count)
