"""Frontier stage: record the product pages discovery spiders found.

Discovery spiders (serp, wayback) yield :class:`~leadcrawler.domain.items.DiscoveredUrl` items;
this stage writes them to the frontier table of the crawl's base (from the storage
extension) in batches, off the reactor thread. Leads pass through untouched.

Settings: ``FRONTIER_ENABLED``, ``FRONTIER_BATCH_SIZE``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.extensions import StorageExtension
from leadcrawler.storage.frontier import FrontierStore

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class FrontierPipeline:
    def __init__(self, stats: StatsCollector, storage: StorageExtension, batch_size: int) -> None:
        self.stats = stats
        self.storage = storage
        self.batch_size = batch_size
        self.buffer: list[DiscoveredUrl] = []
        self.frontier: FrontierStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("FRONTIER_ENABLED"):
            raise NotConfigured("FRONTIER_ENABLED is off")
        batch_size = settings.getint("FRONTIER_BATCH_SIZE")
        if batch_size < 1:
            raise NotConfigured("FRONTIER_BATCH_SIZE must be at least 1")
        assert crawler.stats is not None
        return cls(crawler.stats, StorageExtension.of(crawler), batch_size)

    async def open_spider(self) -> None:
        self.frontier = (await self.storage.base()).frontier()

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, DiscoveredUrl):
            self.buffer.append(item)
            if len(self.buffer) >= self.batch_size:
                await self.flush()
        return item

    async def close_spider(self) -> None:
        await self.flush()

    async def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch or self.frontier is None:
            return
        new = await asyncio.to_thread(self.frontier.add, batch)
        self.stats.inc_value("leadcrawler/frontier/new", new)
        self.stats.inc_value("leadcrawler/frontier/seen_again", len(batch) - new)
        logger.info("Frontier: %d new URL(s), %d already known", new, len(batch) - new)
