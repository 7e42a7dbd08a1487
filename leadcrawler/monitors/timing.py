"""Spider middleware: time spent extracting, per response (``leadcrawler/extract/seconds``
and ``leadcrawler/extract/responses``), for the run's mean extraction time per page."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector


class ExtractTimingMiddleware:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("MONITOR_ENABLED"):
            raise NotConfigured("MONITOR_ENABLED is off")
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        spent = 0.0
        started = time.perf_counter()
        for output in result:
            spent += time.perf_counter() - started
            yield output
            started = time.perf_counter()
        spent += time.perf_counter() - started
        self._add(spent)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        spent = 0.0
        started = time.perf_counter()
        async for output in result:
            spent += time.perf_counter() - started
            yield output
            started = time.perf_counter()
        spent += time.perf_counter() - started
        self._add(spent)

    def _add(self, spent: float) -> None:
        total = float(self.stats.get_value("leadcrawler/extract/seconds", 0.0))
        self.stats.set_value("leadcrawler/extract/seconds", round(total + spent, 6))
        self.stats.inc_value("leadcrawler/extract/responses")
