"""Dedupe stage: give each sighting its identity keys and the lead it belongs to.

The keys and the rules that link them are in :mod:`leadcrawler.domain.identity` (strong keys
link alone; a website domain links only when the names agree). A key seen earlier in
this run or stored in the base gives the sighting that lead's uid, so a repeat is merged
into the existing lead by the persist stage, never dropped and never stored twice. The
persist stage resolves again inside its transaction, which is what makes concurrent
crawls safe; this stage's answer feeds the item feed and the stats. The in-run memory is
an LRU bounded by ``DEDUPE_MAX_KEYS_IN_MEMORY``; past it the base answers. Questions to
the base are gathered for a moment (``DEDUPE_LOOKUP_BATCH`` items or
``DEDUPE_LOOKUP_WAIT`` seconds) and asked in one query, so a bulk import does not pay a
round trip per lead.

Settings: ``DEDUPE_ENABLED``, ``DEDUPE_MAX_KEYS_IN_MEMORY``, ``DEDUPE_NAME_SIMILARITY``,
``DEDUPE_LOOKUP_BATCH``, ``DEDUPE_LOOKUP_WAIT``, ``DATABASE_URL``, ``PERSIST_AUTO_MIGRATE``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.identity import is_weak, keys_for_lead, names_agree
from leadcrawler.domain.items import Lead
from leadcrawler.storage.store import open_store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from leadcrawler.storage.repository import LeadStore

logger = logging.getLogger(__name__)


class DedupePipeline:
    def __init__(
        self,
        stats: StatsCollector,
        database_url: str,
        auto_migrate: bool,
        max_keys: int,
        name_similarity: int,
        lookup_batch: int = 500,
        lookup_wait: float = 0.02,
    ) -> None:
        self.stats = stats
        self.lookup_batch = max(1, lookup_batch)
        self.lookup_wait = max(0.0, lookup_wait)
        self.pending: list[tuple[Lead, asyncio.Future[str]]] = []
        self.flusher: asyncio.TimerHandle | None = None
        self.lookups: set[asyncio.Task[None]] = set()
        self.database_url = database_url
        self.auto_migrate = auto_migrate
        self.max_keys = max_keys
        self.name_similarity = name_similarity
        # key -> (lead uid, the name it was seen with): the name backs weak keys.
        self.seen: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self.store: LeadStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("DEDUPE_ENABLED"):
            raise NotConfigured("DEDUPE_ENABLED is off")
        max_keys = settings.getint("DEDUPE_MAX_KEYS_IN_MEMORY")
        if max_keys < 1:
            raise NotConfigured("DEDUPE_MAX_KEYS_IN_MEMORY must be at least 1")
        similarity = settings.getint("DEDUPE_NAME_SIMILARITY")
        if not 0 < similarity <= 100:
            raise NotConfigured("DEDUPE_NAME_SIMILARITY must be between 1 and 100")
        assert crawler.stats is not None
        return cls(
            stats=crawler.stats,
            database_url=settings["DATABASE_URL"],
            auto_migrate=settings.getbool("PERSIST_AUTO_MIGRATE"),
            max_keys=max_keys,
            name_similarity=similarity,
            lookup_batch=settings.getint("DEDUPE_LOOKUP_BATCH"),
            lookup_wait=settings.getfloat("DEDUPE_LOOKUP_WAIT"),
        )

    async def open_spider(self) -> None:
        self.store = await asyncio.to_thread(
            open_store, self.database_url, self.auto_migrate, self.name_similarity
        )

    async def close_spider(self) -> None:
        if self.pending:
            self._start_lookup()
        if self.lookups:
            await asyncio.gather(*self.lookups)
        if self.store is not None:
            self.store.engine.dispose()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        item.identity_keys = keys_for_lead(item)
        if item.lead_uid is not None:
            # The spider already knows the stored lead (a retry of its enrichment).
            self.stats.inc_value("leadcrawler/dedupe/known_lead")
            self._remember(item, item.lead_uid)
            return item
        uid = self._remembered(item)
        if uid is not None:
            self.stats.inc_value("leadcrawler/dedupe/repeat_in_run")
            item.lead_uid = uid
            self._remember(item, uid)
            return item
        if self.store is None or not item.identity_keys:
            self._decide(item, None)
            return item
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        if len(self.pending) >= self.lookup_batch:
            self._flush_soon(0)
        elif self.flusher is None:
            self._flush_soon(self.lookup_wait)
        item.lead_uid = await future
        return item

    def _flush_soon(self, delay: float) -> None:
        if self.flusher is not None:
            self.flusher.cancel()
        loop = asyncio.get_running_loop()
        self.flusher = loop.call_later(delay, self._start_lookup)

    def _start_lookup(self) -> None:
        self.flusher = None
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.ensure_future(self._lookup(batch))
            self.lookups.add(task)
            task.add_done_callback(self.lookups.discard)

    async def _lookup(self, batch: list[tuple[Lead, asyncio.Future[str]]]) -> None:
        assert self.store is not None
        items = [item for item, _ in batch]
        try:
            stored = await asyncio.to_thread(self.store.find_lead_uids, items)
        except Exception as exc:  # the base is down: persist resolves (and retries) anyway
            logger.warning("Dedupe could not ask the base (%s)", exc.__class__.__name__)
            stored = [None] * len(items)
        for (item, future), uid in zip(batch, stored, strict=True):
            if not future.done():
                future.set_result(self._decide(item, uid))

    def _decide(self, item: Lead, stored_uid: str | None) -> str:
        """The uid for ``item``: this run's memory first (an earlier item of the same
        lookup may be the same producer), then the base, else a new one."""
        uid = self._remembered(item)
        if uid is not None:
            self.stats.inc_value("leadcrawler/dedupe/repeat_in_run")
        elif stored_uid is not None:
            uid = stored_uid
            self.stats.inc_value("leadcrawler/dedupe/known_lead")
        else:
            uid = str(uuid.uuid4())
            self.stats.inc_value("leadcrawler/dedupe/new_lead")
        item.lead_uid = uid
        self._remember(item, uid)
        return uid

    def _remembered(self, item: Lead) -> str | None:
        name = item.display_name or item.legal_name
        for key in item.identity_keys:
            entry = self.seen.get(key)
            if entry is None:
                continue
            uid, seen_name = entry
            if is_weak(key) and not names_agree(name, seen_name, self.name_similarity):
                continue
            self.seen.move_to_end(key)
            return uid
        return None

    def _remember(self, item: Lead, uid: str) -> None:
        name = item.display_name or item.legal_name
        for key in item.identity_keys:
            if is_weak(key) and key in self.seen and self.seen[key][0] != uid:
                continue  # a weak key stays with the first producer it was seen with
            self.seen[key] = (uid, name)
            self.seen.move_to_end(key)
        while len(self.seen) > self.max_keys:
            self.seen.popitem(last=False)
