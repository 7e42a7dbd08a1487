"""Privacy stage (first in the chain): the privacy gate, for every sighting.

Calls :meth:`leadcrawler.privacy.gate.PrivacyGate.screen` once per lead: minimisation
to the declared allowlist (CPF numbers and buyers' data out), the legal basis, purpose
and assessment reference stamped on, and the suppression list checked. A suppressed
person's sighting is dropped here (``leadcrawler/privacy/suppressed``), before any DNS
lookup; the spiders ask the same gate (:func:`gate_for`) before they visit a site or a
product page, so a suppressed person is not even visited.

This stage has no ``_ENABLED`` switch on purpose: the legal basis and the suppression
list are not optional. Persist and export check the list again.

Settings: ``PRIVACY_LEGAL_BASIS``, ``PRIVACY_PURPOSE``, ``PRIVACY_LIA_REFERENCE``,
``PRIVACY_RETENTION_DAYS``, ``PRIVACY_REQUIRE_PEPPER``, the environment variable
``LEADCRAWLER_PRIVACY_PEPPER``. The gate is the enricher chain's (``Chain.privacy_gate``),
the base the storage extension's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Self
from weakref import WeakKeyDictionary

from scrapy.exceptions import DropItem

from leadcrawler.domain.items import Lead
from leadcrawler.extensions import EnricherExtension, StorageExtension
from leadcrawler.privacy.gate import PrivacyGate

if TYPE_CHECKING:
    from leadcrawler.enricher.service import Chain

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_GATES: WeakKeyDictionary[Crawler, PrivacyGate] = WeakKeyDictionary()


def gate_for(crawler: Crawler) -> PrivacyGate | None:
    """The crawl's privacy gate, once the privacy stage has opened (None before)."""
    return _GATES.get(crawler)


class SuppressedLead(DropItem):
    """A sighting of a person on the suppression list: dropped, logged without details."""

    def __init__(self) -> None:
        super().__init__("person on the suppression list", log_level="INFO")


class PrivacyPipeline:
    def __init__(self, crawler: Crawler, stats: StatsCollector, chain: Chain) -> None:
        self.crawler = crawler
        self.stats = stats
        self.chain = chain
        # A PrivacyConfigError stops the crawl before it starts: no lead may be collected
        # without a legal basis, nor with a production list that cannot be checked.
        self.gate = chain.privacy_gate

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler, crawler.stats, EnricherExtension.of(crawler).chain)

    async def open_spider(self) -> None:
        storage = self.crawler.get_extension(StorageExtension)
        if storage is not None:
            base = await storage.base()
            await asyncio.to_thread(self.chain.load_suppression, base)
        else:  # no base (DATABASE_URL empty): nothing is stored, no list to read
            logger.warning("No base: the suppression list cannot be read for this crawl")
        _GATES[self.crawler] = self.gate
        logger.info("Suppression list: %d key(s)", len(self.gate.suppressed))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        screening = self.gate.screen(item)
        for reason, count in screening.dropped.items():
            self.stats.inc_value(f"leadcrawler/privacy/minimised/{reason}", count)
        if screening.suppressed:
            self.stats.inc_value("leadcrawler/privacy/suppressed")
            raise SuppressedLead
        return item
