"""Qualify stage: calls the enricher's qualify step (:mod:`leadcrawler.enricher.qualify`).

Settings: ``QUALIFY_ENABLED``, ``QUALIFY_RULES_FILE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.qualify import Qualifier
from leadcrawler.extensions import EnricherExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class QualifyPipeline:
    def __init__(self, crawler: Crawler, step: Qualifier) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.step = step

    @property
    def rules(self) -> Any:
        return self.step.rules

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("QUALIFY_ENABLED"):
            raise NotConfigured("QUALIFY_ENABLED is off")
        try:
            step = EnricherExtension.of(crawler).chain.qualifier
        except ConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        assert step is not None
        return cls(crawler, step)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            self.step.qualify(item)
        return item
