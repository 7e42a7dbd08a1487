"""Persist step: write leads to the historical base in batched, idempotent upserts.

Writes run in a thread, never on the event loop. A batch that fails with a database error
is retried with exponential backoff (the database may be restarting); if it still fails
each lead is tried alone, and a lead that cannot be written is appended to a JSON Lines
spill file (``PERSIST_SPILL_DIR``) and counted, never lost. Every run of the chain is
recorded as a run of the base (source name, arguments, start/end, final counts).

Settings (this step owns the ``PERSIST_`` prefix): ``PERSIST_ENABLED``,
``PERSIST_BATCH_SIZE``, ``PERSIST_RETRY_TIMES``, ``PERSIST_RETRY_BACKOFF``,
``PERSIST_SPILL_DIR``. The base itself comes from the host (``DATABASE_*``), the rules that
re-score merged leads from the qualify step, the identity rules from the dedupe step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.domain.items import Lead
from leadcrawler.domain.scoring import Rules
from leadcrawler.domain.urls import redact_arguments
from leadcrawler.enricher.config import ConfigError, Settings, Stats
from leadcrawler.privacy.config import PrivacyConfig
from leadcrawler.privacy.gate import LegalBasisMissing, require_legal_basis
from leadcrawler.storage.repository import LeadStore, SaveResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PersistConfig:
    batch_size: int = 100
    retry_times: int = 3
    retry_backoff: float = 2.0  # seconds before the first retry; doubles each time
    spill_dir: Path = Path("data/unsaved")
    pepper: bytes | None = None  # the suppression list's key: the list is checked at write

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistConfig:
        config = cls(
            batch_size=settings.getint("PERSIST_BATCH_SIZE"),
            retry_times=settings.getint("PERSIST_RETRY_TIMES"),
            retry_backoff=settings.getfloat("PERSIST_RETRY_BACKOFF"),
            spill_dir=Path(settings.get("PERSIST_SPILL_DIR") or "data/unsaved"),
            pepper=PrivacyConfig.from_settings(settings).pepper,
        )
        if config.batch_size < 1:
            raise ConfigError("PERSIST_BATCH_SIZE must be at least 1")
        if config.retry_times < 0 or config.retry_backoff < 0:
            raise ConfigError("PERSIST_RETRY_TIMES and PERSIST_RETRY_BACKOFF must be >= 0")
        return config


class Persister:
    def __init__(
        self,
        stats: Stats,
        config: PersistConfig,
        store: LeadStore | None,
        rules: Rules | None,
    ) -> None:
        self.stats = stats
        self.config = config
        self.store = store
        self.rules = rules
        self.buffer: list[Lead] = []
        self.run_id: int | None = None
        self.writing: asyncio.Future[None] | None = None  # a batch add_many writes

    async def start_run(self, name: str, arguments: dict[str, Any]) -> None:
        if self.store is None:
            return
        # No buyer's prefill data or credentials from a URL argument in the runs table.
        arguments = redact_arguments(arguments)
        self.run_id = await asyncio.to_thread(self.store.start_run, name, arguments)
        # The run monitor (leadcrawler/monitors) adds the run's metrics to this row.
        self.stats.set_value("leadcrawler/run_id", str(self.run_id))
        safe_url = self.store.engine.url.render_as_string(hide_password=True)
        logger.info("Writing leads to %s (run %s)", safe_url, self.run_id)

    async def add(self, lead: Lead) -> None:
        if self._accept(lead) and len(self.buffer) >= self.config.batch_size:
            await self.flush()

    def _accept(self, lead: Lead) -> bool:
        self.stats.inc_value("leadcrawler/persist/received")
        try:
            require_legal_basis(lead)
        except LegalBasisMissing as exc:
            # Storage would refuse it: say so once per lead, never store it.
            self.stats.inc_value("leadcrawler/persist/refused/no_legal_basis")
            logger.error("%s", exc)
            return False
        self.buffer.append(lead)
        return True

    async def add_many(self, leads: list[Lead]) -> None:
        """:meth:`add` for a batch: written in batches of ``PERSIST_BATCH_SIZE``.

        A full batch is written in the background while the caller prepares the next one
        (one write at a time, in order): the database and the chain's own work overlap.
        """
        for lead in leads:
            if self._accept(lead) and len(self.buffer) >= self.config.batch_size:
                await self.wait_for_writes()
                batch, self.buffer = self.buffer, []
                self.writing = asyncio.ensure_future(self._write(batch))

    async def wait_for_writes(self) -> None:
        """Wait for the batch being written in the background, if any."""
        if self.writing is not None:
            writing, self.writing = self.writing, None
            await writing

    async def finish(self, reason: str | None = None) -> None:
        """Write what is buffered and record the end of the run with the final counts."""
        await self.flush()
        if self.store is None or self.run_id is None:
            return
        counts = {
            key: value
            for key, value in self.stats.get_stats().items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        reason = reason or str(self.stats.get_value("finish_reason") or "finished")
        try:
            await asyncio.to_thread(self.store.finish_run, self.run_id, reason, counts)
        except SQLAlchemyError:
            logger.exception("Could not record the end of run %s", self.run_id)

    async def flush(self) -> None:
        await self.wait_for_writes()
        batch, self.buffer = self.buffer, []
        await self._write(batch)

    async def _write(self, batch: list[Lead]) -> None:
        if not batch or self.store is None:
            if batch:
                self._spill(batch, "the base never opened")
            return
        result = await self._save_with_retries(batch)
        if result is None:
            result = SaveResult()
            for lead in batch:  # one bad lead must not take its batch down with it
                try:
                    one = await self._save([lead])
                except SQLAlchemyError as exc:
                    self._spill([lead], str(exc.__class__.__name__))
                    continue
                result.created += one.created
                result.updated += one.updated
                result.merged += one.merged
                result.suppressed += one.suppressed
        self.stats.inc_value("leadcrawler/persist/batches")
        if result.suppressed:
            self.stats.inc_value("leadcrawler/privacy/suppressed_at_persist", result.suppressed)
        self.stats.inc_value("leadcrawler/persist/created", result.created)
        self.stats.inc_value("leadcrawler/persist/updated", result.updated)
        self.stats.inc_value("leadcrawler/persist/merged", result.merged)

    async def _save(self, leads: list[Lead]) -> SaveResult:
        assert self.store is not None
        # Database I/O blocks: keep it off the event loop's thread.
        return await asyncio.to_thread(
            self.store.save, leads, self.run_id, self.rules, self.config.pepper
        )

    async def _save_with_retries(self, batch: list[Lead]) -> SaveResult | None:
        delay = self.config.retry_backoff
        for attempt in range(self.config.retry_times + 1):
            try:
                return await self._save(batch)
            except SQLAlchemyError as exc:
                self.stats.inc_value("leadcrawler/persist/batch_errors")
                logger.warning(
                    "Writing a batch of %d leads failed (attempt %d of %d): %s",
                    len(batch),
                    attempt + 1,
                    self.config.retry_times + 1,
                    exc.__class__.__name__,
                )
                if attempt < self.config.retry_times:
                    await asyncio.sleep(delay)
                    delay *= 2
        return None

    def _spill(self, leads: list[Lead], why: str) -> None:
        self.config.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.config.spill_dir / f"unsaved-{datetime.now(UTC):%Y%m%d}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            for lead in leads:
                handle.write(json.dumps(dataclasses.asdict(lead), default=str) + "\n")
        self.stats.inc_value("leadcrawler/persist/spilled", len(leads))
        logger.error("%d lead(s) could not be stored (%s); kept in %s", len(leads), why, path)
