"""Validate stage: calls the enricher's validate step (:mod:`leadcrawler.enricher.validate`).

A lead it rejects is dropped (``DropItem``), counted as ``leadcrawler/validate/dropped/<reason>``.

Settings: ``VALIDATE_ENABLED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import DropItem, NotConfigured

from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.validate import Validator
from leadcrawler.extensions import EnricherExtension

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ValidatePipeline:
    def __init__(self, crawler: Crawler, step: Validator) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.step = step

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("VALIDATE_ENABLED"):
            raise NotConfigured("VALIDATE_ENABLED is off")
        try:
            step = EnricherExtension.of(crawler).chain.validator
        except ConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        assert step is not None
        return cls(crawler, step)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        reason = self.step.validate(item)
        if reason is not None:
            raise DropItem(f"{reason}: no name, CNPJ, own domain or valid contact")
        return item
