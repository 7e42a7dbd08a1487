"""Dedupe stage: give each sighting its identity keys and the lead it belongs to.

Exact keys only (fuzzy evidence comes later): normalised e-mail, E.164 phone (a WhatsApp
number shares the phone key), CNPJ, canonical checkout URL and the platform's seller id.
A key seen earlier in this run or stored in the base gives the sighting that lead's
uid, so a repeat is merged into the existing lead by the persist stage, never dropped
and never stored twice. The in-run memory is an LRU bounded by
``DEDUPE_MAX_KEYS_IN_MEMORY``; past it the base answers.

Settings: ``DEDUPE_ENABLED``, ``DEDUPE_MAX_KEYS_IN_MEMORY``, ``DATABASE_URL``,
``PERSIST_AUTO_MIGRATE``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.emails import email_key
from leadcrawler.items import ContactKind, ContactStatus, Lead
from leadcrawler.storage.store import open_store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from leadcrawler.storage.repository import LeadStore

logger = logging.getLogger(__name__)


def identity_keys(lead: Lead) -> list[str]:
    """The exact keys that identify the producer behind ``lead``, most specific first."""
    keys: list[str] = []
    if lead.cnpj:
        keys.append(f"cnpj:{lead.cnpj}")
    for contact in lead.contacts:
        if contact.status != ContactStatus.VALID or not contact.normalized:
            continue
        if contact.kind == ContactKind.EMAIL:
            keys.append(f"email:{email_key(contact.normalized)}")
        elif contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            keys.append(f"phone:{contact.normalized}")
    for offer in lead.offers:
        if offer.seller_id:
            keys.append(f"seller:{offer.platform}:{offer.seller_id}")
        keys.append(f"checkout:{offer.checkout_url}")
    return list(dict.fromkeys(keys))


class DedupePipeline:
    def __init__(
        self, stats: StatsCollector, database_url: str, auto_migrate: bool, max_keys: int
    ) -> None:
        self.stats = stats
        self.database_url = database_url
        self.auto_migrate = auto_migrate
        self.max_keys = max_keys
        self.seen: OrderedDict[str, str] = OrderedDict()
        self.store: LeadStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("DEDUPE_ENABLED"):
            raise NotConfigured("DEDUPE_ENABLED is off")
        max_keys = settings.getint("DEDUPE_MAX_KEYS_IN_MEMORY")
        if max_keys < 1:
            raise NotConfigured("DEDUPE_MAX_KEYS_IN_MEMORY must be at least 1")
        assert crawler.stats is not None
        return cls(
            stats=crawler.stats,
            database_url=settings["DATABASE_URL"],
            auto_migrate=settings.getbool("PERSIST_AUTO_MIGRATE"),
            max_keys=max_keys,
        )

    async def open_spider(self) -> None:
        self.store = await asyncio.to_thread(open_store, self.database_url, self.auto_migrate)

    async def close_spider(self) -> None:
        if self.store is not None:
            self.store.engine.dispose()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        item.identity_keys = identity_keys(item)
        uid = self._remembered(item.identity_keys)
        if uid is not None:
            self.stats.inc_value("leadcrawler/dedupe/repeat_in_run")
        else:
            uid = await self._stored(item.identity_keys)
            if uid is not None:
                self.stats.inc_value("leadcrawler/dedupe/known_lead")
            else:
                uid = str(uuid.uuid4())
                self.stats.inc_value("leadcrawler/dedupe/new_lead")
        item.lead_uid = uid
        self._remember(item.identity_keys, uid)
        return item

    def _remembered(self, keys: list[str]) -> str | None:
        for key in keys:
            uid = self.seen.get(key)
            if uid is not None:
                self.seen.move_to_end(key)
                return uid
        return None

    async def _stored(self, keys: list[str]) -> str | None:
        if self.store is None or not keys:
            return None
        found = await asyncio.to_thread(self.store.find_lead_uids, keys)
        for key in keys:  # most specific key first
            if key in found:
                return found[key]
        return None

    def _remember(self, keys: list[str], uid: str) -> None:
        for key in keys:
            self.seen[key] = uid
            self.seen.move_to_end(key)
        while len(self.seen) > self.max_keys:
            self.seen.popitem(last=False)
