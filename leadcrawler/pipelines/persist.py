"""Persist stage: calls the enricher's persist step (:mod:`leadcrawler.enricher.persist`) into
the crawl's base (from the storage extension); each crawl is recorded as a run.

Settings: ``PERSIST_ENABLED``, ``PERSIST_BATCH_SIZE``, ``PERSIST_RETRY_TIMES``,
``PERSIST_RETRY_BACKOFF``, ``PERSIST_SPILL_DIR``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.persist import Persister
from leadcrawler.extensions import EnricherExtension, StorageExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from leadcrawler.storage.repository import LeadStore


class PersistPipeline:
    def __init__(self, crawler: Crawler, extension: EnricherExtension, step: Persister) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.extension = extension
        self.step = step

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("PERSIST_ENABLED"):
            raise NotConfigured("PERSIST_ENABLED is off")
        StorageExtension.of(crawler)  # no base, no persist stage: say so now
        extension = EnricherExtension.of(crawler)
        try:
            step = extension.chain.persister
        except ConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        assert step is not None
        return cls(crawler, extension, step)

    @property
    def store(self) -> LeadStore | None:
        return self.step.store

    @store.setter
    def store(self, store: LeadStore | None) -> None:
        self.step.store = store

    async def open_spider(self) -> None:
        await self.extension.open_base()
        spider = self.crawler.spider
        name = spider.name if spider is not None else "?"
        await self.step.start_run(name, dict(getattr(spider, "arguments", {}) or {}))

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            await self.step.add(item)
        return item

    async def close_spider(self) -> None:
        await self.step.finish()

    async def flush(self) -> None:
        await self.step.flush()
