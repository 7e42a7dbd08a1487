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
from leadcrawler.spiders.base import UsageError, whole_number

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
        self.limit = whole_number("limit", limit)
        self.kept = 0
        self.rows_read = 0
        self.seen: set[str] = set()
        self.resume_keys: dict[str, set[str]] = {}

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
        if self.limit_reached():
            return
        try:
            data = json.loads(response.body)
        except (ValueError, RecursionError):
            self._inc("bad_answer")
            logger.warning("The CDX API answered something that is not JSON for %s", host)
            return
        rows, resume_key = cdx_rows(data)
        platforms = {self.platform.key: self.platform}
        for row in rows:
            if self.limit_reached():
                return
            self.rows_read += 1
            self._inc("rows")
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
        if not resume_key or self.limit_reached():
            return
        seen_keys = self.resume_keys.setdefault(host, set())
        if resume_key in seen_keys:
            # The API handed out a key it gave before: following it would loop forever.
            self._inc("repeated_resume_key")
            logger.warning("The CDX API repeated a resume key for %s; stopping there", host)
            return
        seen_keys.add(resume_key)
        self._inc("pages")
        yield self._cdx_request(host, resume_key)

    def limit_reached(self) -> bool:
        """``-a limit=N`` counts every row read, kept or not: a run always ends."""
        return self.limit is not None and self.rows_read >= self.limit

    def on_error(self, failure: Failure) -> None:
        self._inc(f"error/{failure.type.__name__ if failure.type else 'unknown'}")
        logger.warning("CDX request failed: %s", failure.getErrorMessage())

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"wayback/{key}", count)
