"""Normalize stage: calls the enricher's normalize step (:mod:`leadcrawler.enricher.normalize`).

Settings: ``NORMALIZE_ENABLED``, ``NORMALIZE_DEFAULT_REGION``, ``NORMALIZE_PHONE_REPAIR``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.normalize import Normalizer
from leadcrawler.extensions import EnricherExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class NormalizePipeline:
    def __init__(self, crawler: Crawler, step: Normalizer) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.step = step

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NORMALIZE_ENABLED"):
            raise NotConfigured("NORMALIZE_ENABLED is off")
        try:
            step = EnricherExtension.of(crawler).chain.normalizer
        except ConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        assert step is not None
        return cls(crawler, step)

    @property
    def default_region(self) -> str:
        return self.step.config.phones.region

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            self.step.normalize(item)
        return item
