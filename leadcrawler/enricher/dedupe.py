"""Dedupe step: give each sighting its identity keys and the lead it belongs to.

The keys and the rules that link them are in :mod:`leadcrawler.domain.identity` (strong keys
link alone; a website domain links only when the names agree). A key seen earlier in
this run or stored in the base gives the sighting that lead's uid, so a repeat is merged
into the existing lead by the persist step, never dropped and never stored twice. The
persist step resolves again inside its transaction, which is what makes concurrent
crawls safe; this step's answer feeds the item feed and the stats. The in-run memory is
an LRU bounded by ``DEDUPE_MAX_KEYS_IN_MEMORY``; past it the base answers (when there is
one: without a base, the in-run memory alone decides).

Settings (this step owns the ``DEDUPE_`` prefix): ``DEDUPE_ENABLED``,
``DEDUPE_MAX_KEYS_IN_MEMORY``, ``DEDUPE_NAME_SIMILARITY`` (also what the persist step's
in-transaction resolution uses: one identity rule book).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.domain.identity import (
    CHECKOUT_PREFIX,
    DEFAULT_NAME_SIMILARITY,
    LINKED_PREFIX,
    WEAK_PREFIXES,
    is_weak,
    keys_for_lead,
    lookups,
    names_agree,
)
from leadcrawler.domain.items import Lead
from leadcrawler.enricher.config import ConfigError, Settings, Stats
from leadcrawler.storage.repository import LeadStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    max_keys: int = 200_000
    name_similarity: int = DEFAULT_NAME_SIMILARITY

    @classmethod
    def from_settings(cls, settings: Settings) -> DedupeConfig:
        max_keys = settings.getint("DEDUPE_MAX_KEYS_IN_MEMORY")
        if max_keys < 1:
            raise ConfigError("DEDUPE_MAX_KEYS_IN_MEMORY must be at least 1")
        similarity = settings.getint("DEDUPE_NAME_SIMILARITY")
        if not 0 < similarity <= 100:
            raise ConfigError("DEDUPE_NAME_SIMILARITY must be between 1 and 100")
        return cls(max_keys=max_keys, name_similarity=similarity)


class Deduper:
    def __init__(self, stats: Stats, config: DedupeConfig, store: LeadStore | None = None) -> None:
        self.stats = stats
        self.config = config
        self.store = store
        # key -> (lead uid, the name it was seen with): the name backs weak keys.
        self.seen: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    async def dedupe(self, lead: Lead) -> Lead:
        """Give ``lead`` its identity keys and its lead's uid (a batch of one)."""
        await self.dedupe_many([lead])
        return lead

    async def dedupe_many(self, leads: list[Lead]) -> list[Lead]:
        """Keys and uids for a batch, in order: the source's own uid, else this run's memory
        (earlier leads of the batch included), else the base (asked once for the batch),
        else a new uid."""
        for lead in leads:
            lead.identity_keys = keys_for_lead(lead)
        unknown = [
            lead
            for lead in leads
            if lead.lead_uid is None and lead.identity_keys and self._remembered(lead) is None
        ]
        stored: dict[int, str | None] = {}
        if unknown and self.store is not None:
            try:
                uids = await asyncio.to_thread(self.store.find_lead_uids, unknown)
            except SQLAlchemyError as exc:
                self.stats.inc_value("leadcrawler/dedupe/base_unavailable", len(unknown))
                logger.warning(
                    "Identity lookup skipped, the base is away: %s", exc.__class__.__name__
                )
                uids = [None] * len(unknown)
            stored = {id(lead): uid for lead, uid in zip(unknown, uids, strict=True)}
        for lead in leads:
            if lead.lead_uid is not None:
                self.stats.inc_value("leadcrawler/dedupe/known_lead")
                self._remember(lead, lead.lead_uid)
                continue
            # Earlier leads of this batch are remembered by now: they come first.
            uid = self._remembered(lead)
            if uid is not None:
                self.stats.inc_value("leadcrawler/dedupe/repeat_in_run")
            elif (uid := stored.get(id(lead))) is not None:
                self.stats.inc_value("leadcrawler/dedupe/known_lead")
            else:
                uid = new_uid()
                self.stats.inc_value("leadcrawler/dedupe/new_lead")
            lead.lead_uid = uid
            self._remember(lead, uid)
        return leads

    def _remembered(self, lead: Lead) -> str | None:
        seen = self.seen
        for own in lead.identity_keys:
            if own.startswith(_CROSS_PREFIXES):
                pairs = lookups(own)  # a checkout meets the sites linking it, and back
            elif own in seen:
                pairs = [(own, own.startswith(WEAK_PREFIXES))]  # lookups(own), in short
            else:
                continue  # the only key it may link to is not remembered
            for key, weak in pairs:
                entry = seen.get(key)
                if entry is None:
                    continue
                uid, seen_name = entry
                name = lead.display_name or lead.legal_name
                if weak and not names_agree(name, seen_name, self.config.name_similarity):
                    continue
                seen.move_to_end(key)
                return uid
        return None

    def _remember(self, lead: Lead, uid: str) -> None:
        name = lead.display_name or lead.legal_name
        for key in lead.identity_keys:
            if is_weak(key) and key in self.seen and self.seen[key][0] != uid:
                continue  # a weak key stays with the first producer it was seen with
            self.seen[key] = (uid, name)
            self.seen.move_to_end(key)
        while len(self.seen) > self.config.max_keys:
            self.seen.popitem(last=False)


_CROSS_PREFIXES = (CHECKOUT_PREFIX, LINKED_PREFIX)


def new_uid() -> str:
    """A new lead uid: ``str(uuid.uuid4())``, without building a UUID object (a third of
    the cost). Random version-4 RFC 4122 bits, lower-case hex in the 8-4-4-4-12 groups."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # variant RFC 4122
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
