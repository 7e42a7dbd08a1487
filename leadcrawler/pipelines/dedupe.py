"""Dedupe stage: calls the enricher's dedupe step (:mod:`leadcrawler.enricher.dedupe`), which
consults the crawl's base (from the storage extension) when the crawl stores leads.

Settings: ``DEDUPE_ENABLED``, ``DEDUPE_MAX_KEYS_IN_MEMORY``, ``DEDUPE_NAME_SIMILARITY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.dedupe import Deduper
from leadcrawler.extensions import EnricherExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class DedupePipeline:
    def __init__(self, crawler: Crawler, extension: EnricherExtension, step: Deduper) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.extension = extension
        self.step = step

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("DEDUPE_ENABLED"):
            raise NotConfigured("DEDUPE_ENABLED is off")
        extension = EnricherExtension.of(crawler)
        try:
            step = extension.chain.deduper
        except ConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        assert step is not None
        return cls(crawler, extension, step)

    @property
    def seen(self) -> Any:
        """The in-run memory of identity keys (bounded LRU)."""
        return self.step.seen

    async def open_spider(self) -> None:
        await self.extension.open_base()

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            await self.step.dedupe(item)
        return item
