"""Replay of parked leads: what the persist stage spilled while the base was away goes back in.

The persist stage appends a lead the base refused (after its retries) to a JSON Lines file
``PERSIST_SPILL_DIR/unsaved-<date>.jsonl``. This module puts those leads back:

* :class:`SpillReplayer` (no Scrapy): claims spill files by renaming them (atomic, so two
  processes never replay one file), reads the leads, saves them through the ordinary
  :meth:`LeadStore.save` in batches (identity resolution applies, so a lead already stored
  is merged, never stored twice) and deletes each file once all its leads are stored. If
  the base fails half-way, the leads not yet stored go back to a new ``unsaved-*`` file.
* :class:`ReplayExtension` (Scrapy): replays at the start of every crawl (what an earlier
  run parked), every ``REPLAY_INTERVAL`` seconds while spill files exist (the base came back
  during the run) and once more when the crawl closes (after the persist stage's last flush).
* ``leadcrawler replay`` (see ``cli.py``): for a base that stayed away until the crawl ended.

Settings: ``REPLAY_ENABLED``, ``REPLAY_INTERVAL``, ``REPLAY_BATCH_SIZE``, and the persist
stage's ``PERSIST_SPILL_DIR``, ``DATABASE_URL``, ``DATABASE_AUTO_MIGRATE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.domain.items import (
    Certainty,
    ContactKind,
    ContactPoint,
    ContactStatus,
    Lead,
    Offer,
    Sighting,
)
from leadcrawler.enricher.dedupe import DedupeConfig

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from leadcrawler.domain.scoring import Rules
    from leadcrawler.storage.repository import LeadStore

logger = logging.getLogger(__name__)

SPILL_GLOB = "unsaved-*.jsonl"  # what the persist stage writes
CLAIMED_PREFIX = "replaying-"
# A process that opened a spill file just before it was claimed may still append a line:
# reading waits this long after the rename.
APPEND_GRACE = 0.5  # seconds


class SpillError(ValueError):
    """A spill file line is not a lead (a damaged or foreign file)."""


def lead_from_dict(raw: dict[str, Any]) -> Lead:
    """The :class:`Lead` the persist stage wrote with ``dataclasses.asdict`` and ``str``."""
    try:
        sighting = raw["sighting"]
        return Lead(
            sighting=Sighting(
                source=sighting["source"],
                url=sighting["url"],
                spider=sighting["spider"],
                seen_at=_when(sighting["seen_at"]),
            ),
            display_name=raw.get("display_name"),
            legal_name=raw.get("legal_name"),
            cnpj=raw.get("cnpj"),
            website=raw.get("website"),
            domain=raw.get("domain"),
            contacts=[
                ContactPoint(
                    kind=ContactKind(c["kind"]),
                    value=c["value"],
                    source_url=c["source_url"],
                    found_at=_when(c["found_at"]),
                    method=c.get("method") or "",
                    certainty=Certainty(c.get("certainty") or "certain"),
                    normalized=c.get("normalized"),
                    status=ContactStatus(c.get("status") or "unverified"),
                    details=dict(c.get("details") or {}),
                )
                for c in raw.get("contacts") or []
            ],
            offers=[
                Offer(
                    platform=o["platform"],
                    checkout_url=o["checkout_url"],
                    product_name=o.get("product_name"),
                    price_brl=Decimal(o["price_brl"]) if o.get("price_brl") is not None else None,
                    seller_id=o.get("seller_id"),
                    linked=bool(o.get("linked")),
                )
                for o in raw.get("offers") or []
            ],
            identity_keys=list(raw.get("identity_keys") or []),
            lead_uid=raw.get("lead_uid"),
            score=raw.get("score"),
            tier=raw.get("tier"),
            score_reasons=dict(raw.get("score_reasons") or {}),
            enrichment=dict(raw.get("enrichment") or {}),
            legal_basis=raw.get("legal_basis"),
            purpose=raw.get("purpose"),
            lia_reference=raw.get("lia_reference"),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise SpillError(f"not a parked lead ({exc.__class__.__name__}: {exc})") from None


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass
class ReplayResult:
    files: int = 0  # spill files fully replayed (and deleted)
    replayed: int = 0  # leads stored
    left: int = 0  # leads still parked (the base failed again)
    rejected: int = 0  # lines that are not leads (kept in a .rejected file)
    errors: list[str] = field(default_factory=list)


class SpillReplayer:
    def __init__(self, spill_dir: Path, batch_size: int = 100) -> None:
        self.spill_dir = spill_dir
        self.batch_size = batch_size

    def pending(self) -> list[Path]:
        """Spill files waiting for the base (cheap: one directory listing)."""
        if not self.spill_dir.is_dir():
            return []
        return sorted(self.spill_dir.glob(SPILL_GLOB))

    def claim(self) -> list[Path]:
        """Rename every waiting spill file to a name only this call knows."""
        claimed = []
        tag = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        for path in self.pending():
            target = path.with_name(f"{CLAIMED_PREFIX}{tag}-{path.name}")
            try:
                path.rename(target)
            except FileNotFoundError:
                continue  # another process claimed it first
            claimed.append(target)
        return claimed

    def replay(
        self,
        store: LeadStore,
        claimed: list[Path],
        rules: Rules | None = None,
        run_id: int | None = None,
    ) -> ReplayResult:
        """Store the leads of ``claimed`` files (from :meth:`claim`). Blocking: use a thread."""
        result = ReplayResult()
        if claimed:
            time.sleep(APPEND_GRACE)
        for path in claimed:
            leads, bad = self._read(path)
            if bad:
                rejected = path.with_name(path.name.replace(CLAIMED_PREFIX, "rejected-", 1))
                rejected.write_text("".join(bad), "utf-8")
                result.rejected += len(bad)
                logger.error(
                    "%d line(s) of %s are not leads; kept in %s", len(bad), path.name, rejected
                )
            done = 0
            try:
                for start in range(0, len(leads), self.batch_size):
                    batch = leads[start : start + self.batch_size]
                    store.save(batch, run_id, rules)
                    done += len(batch)
            except SQLAlchemyError as exc:
                self._park_again(path, leads[done:])
                result.replayed += done
                result.left += len(leads) - done
                for later in claimed[claimed.index(path) + 1 :]:
                    result.left += len(self._read(later)[0])
                    unclaim(later)
                result.errors.append(exc.__class__.__name__)
                logger.warning(
                    "Replay stopped, the base failed again (%s): %d lead(s) still parked",
                    exc.__class__.__name__,
                    result.left,
                )
                return result
            path.unlink()
            result.files += 1
            result.replayed += done
        if result.replayed:
            logger.info("Replayed %d parked lead(s) from %d file(s)", result.replayed, result.files)
        return result

    def _read(self, path: Path) -> tuple[list[Lead], list[str]]:
        leads: list[Lead] = []
        bad: list[str] = []
        for line in self._lines(path):
            try:
                leads.append(lead_from_dict(json.loads(line)))
            except (json.JSONDecodeError, SpillError):
                bad.append(line if line.endswith("\n") else line + "\n")
        return leads, bad

    @staticmethod
    def _lines(path: Path) -> Iterator[str]:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield line

    def _park_again(self, path: Path, leads: list[Lead]) -> None:
        if leads:
            target = self.spill_dir / f"unsaved-replay-{uuid.uuid4().hex[:12]}.jsonl"
            tmp = target.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as handle:
                for lead in leads:
                    handle.write(json.dumps(_as_dict(lead), default=str) + "\n")
            tmp.rename(target)  # appears whole, or not at all
        path.unlink()


def _as_dict(lead: Lead) -> dict[str, Any]:
    return dataclasses.asdict(lead)


def unclaim(path: Path) -> Path:
    """Give a claimed file back to the spill directory, under a name nobody else uses."""
    original = path.name.split("-unsaved-", 1)[-1].removesuffix(".jsonl")
    target = path.with_name(f"unsaved-{original}-{uuid.uuid4().hex[:8]}.jsonl")
    path.rename(target)
    return target


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    spill_dir: Path
    database_url: str
    auto_migrate: bool
    interval: float  # seconds between checks for spill files during a crawl
    batch_size: int
    name_similarity: int

    @classmethod
    def from_settings(cls, settings: Any) -> ReplayConfig:
        config = cls(
            spill_dir=Path(settings.get("PERSIST_SPILL_DIR") or "data/unsaved"),
            database_url=settings.get("DATABASE_URL") or "",
            auto_migrate=settings.getbool("DATABASE_AUTO_MIGRATE"),
            interval=settings.getfloat("REPLAY_INTERVAL"),
            batch_size=settings.getint("REPLAY_BATCH_SIZE"),
            name_similarity=DedupeConfig.from_settings(settings).name_similarity,
        )
        if not config.database_url:
            raise NotConfigured("DATABASE_URL is empty")
        if config.interval <= 0 or config.batch_size < 1:
            raise NotConfigured("REPLAY_INTERVAL must be > 0 and REPLAY_BATCH_SIZE >= 1")
        return config


class ReplayExtension:
    """Replays parked leads at the start of a crawl, while it runs and when it closes."""

    def __init__(self, crawler: Crawler, config: ReplayConfig, rules: Rules | None) -> None:
        self.crawler = crawler
        self.config = config
        self.rules = rules
        self.replayer = SpillReplayer(config.spill_dir, config.batch_size)
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("REPLAY_ENABLED") or not settings.getbool("PERSIST_ENABLED"):
            raise NotConfigured("REPLAY_ENABLED or PERSIST_ENABLED is off")
        from leadcrawler.enricher.config import ConfigError
        from leadcrawler.enricher.qualify import rules_for_crawl

        rules = None
        with contextlib.suppress(ConfigError):  # the persist stage already says so
            rules = rules_for_crawl(settings)  # the qualify step reads QUALIFY_*
        extension = cls(crawler, ReplayConfig.from_settings(settings), rules)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_opened(self) -> None:
        await self.replay_now()  # what an earlier run parked
        self.task = asyncio.ensure_future(self._watch())

    async def spider_closed(self) -> None:
        self.stop.set()
        if self.task is not None:
            await self.task  # a replay in progress finishes first (a thread cannot be cancelled)
        await self.replay_now()  # what the last flush parked, if the base is back

    async def _watch(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.config.interval)
            if not self.stop.is_set() and self.replayer.pending():
                await self.replay_now()

    async def replay_now(self) -> None:
        claimed = self.replayer.claim()  # on the reactor thread, like the persist stage's spill
        if not claimed:
            return
        stats = self.crawler.stats
        assert stats is not None
        try:
            result = await asyncio.to_thread(self._replay, claimed)
        except SQLAlchemyError as exc:  # the base could not even be opened
            for path in claimed:
                unclaim(path)
            stats.inc_value("leadcrawler/replay/base_unavailable")
            logger.info("Parked leads wait: the base is still away (%s)", exc.__class__.__name__)
            return
        stats.inc_value("leadcrawler/replay/replayed", result.replayed)
        stats.inc_value("leadcrawler/replay/rejected", result.rejected)
        if result.left:
            stats.inc_value("leadcrawler/replay/base_unavailable")

    def _replay(self, claimed: list[Path]) -> ReplayResult:
        from leadcrawler.storage.store import open_store

        store = open_store(
            self.config.database_url, self.config.auto_migrate, self.config.name_similarity
        )
        try:
            return self.replayer.replay(store, claimed, self.rules)
        finally:
            store.engine.dispose()
