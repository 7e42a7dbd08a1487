"""Enrich stage: calls the enricher's enrich step (:mod:`leadcrawler.enricher.enrich`) and
writes the run's enrichment metrics when the spider closes.

Settings: ``ENRICH_ENABLED``, ``ENRICH_DNS_*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.enrich import Enricher
from leadcrawler.extensions import EnricherExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class EnrichPipeline:
    def __init__(self, crawler: Crawler, step: Enricher) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.step = step

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ENRICH_ENABLED"):
            raise NotConfigured("ENRICH_ENABLED is off")
        step = EnricherExtension.of(crawler).chain.enricher
        assert step is not None
        return cls(crawler, step)

    @property
    def mx(self) -> Any:
        return self.step.mx

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            await self.step.enrich(item)
        return item

    def close_spider(self) -> None:
        self.step.finish()
