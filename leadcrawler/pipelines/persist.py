"""Persist stage: write leads to the historical base in batched, idempotent upserts.

Writes run in a thread, never on the reactor. A batch that fails with a database error
is retried with exponential backoff (the database may be restarting); if it still fails
each lead is tried alone, and a lead that cannot be written is appended to a JSON Lines
spill file (``PERSIST_SPILL_DIR``) and counted, never lost. Every crawl is recorded as a
run (spider, arguments, start/end, final counts).

Settings: ``PERSIST_ENABLED``, ``DATABASE_URL``, ``PERSIST_BATCH_SIZE``,
``PERSIST_AUTO_MIGRATE``, ``PERSIST_RETRY_TIMES``, ``PERSIST_RETRY_BACKOFF``,
``PERSIST_SPILL_DIR``, and ``QUALIFY_ENABLED``/``QUALIFY_RULES_FILE`` to re-score merged leads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.domain.items import Lead
from leadcrawler.domain.scoring import Rules, RulesError
from leadcrawler.storage.repository import LeadStore, SaveResult
from leadcrawler.storage.store import open_store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PersistConfig:
    database_url: str
    batch_size: int
    auto_migrate: bool
    retry_times: int
    retry_backoff: float  # seconds before the first retry; doubles each time
    spill_dir: Path
    name_similarity: int  # DEDUPE_NAME_SIMILARITY: the same identity rules as dedupe

    @classmethod
    def from_settings(cls, settings: Any) -> PersistConfig:
        config = cls(
            database_url=settings.get("DATABASE_URL") or "",
            batch_size=settings.getint("PERSIST_BATCH_SIZE"),
            auto_migrate=settings.getbool("PERSIST_AUTO_MIGRATE"),
            retry_times=settings.getint("PERSIST_RETRY_TIMES"),
            retry_backoff=settings.getfloat("PERSIST_RETRY_BACKOFF"),
            spill_dir=Path(settings.get("PERSIST_SPILL_DIR")),
            name_similarity=settings.getint("DEDUPE_NAME_SIMILARITY"),
        )
        if not config.database_url:
            raise NotConfigured("DATABASE_URL is empty")
        if config.batch_size < 1:
            raise NotConfigured("PERSIST_BATCH_SIZE must be at least 1")
        if config.retry_times < 0 or config.retry_backoff < 0:
            raise NotConfigured("PERSIST_RETRY_TIMES and PERSIST_RETRY_BACKOFF must be >= 0")
        return config


class PersistPipeline:
    def __init__(
        self, crawler: Crawler, stats: StatsCollector, config: PersistConfig, rules: Rules | None
    ) -> None:
        self.crawler = crawler
        self.stats = stats
        self.config = config
        self.rules = rules
        self.buffer: list[Lead] = []
        self.store: LeadStore | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("PERSIST_ENABLED"):
            raise NotConfigured("PERSIST_ENABLED is off")
        rules = None
        try:
            rules = Rules.for_crawl(settings)
        except RulesError as exc:
            logger.warning("Stored leads will not be re-scored: %s", exc)
        assert crawler.stats is not None
        return cls(crawler, crawler.stats, PersistConfig.from_settings(settings), rules)

    async def open_spider(self) -> None:
        self.store = await self._in_thread(
            open_store,
            self.config.database_url,
            self.config.auto_migrate,
            self.config.name_similarity,
        )
        spider = self.crawler.spider
        name = spider.name if spider is not None else "?"
        arguments = dict(getattr(spider, "arguments", {}) or {})
        self.run_id = await self._in_thread(self.store.start_run, name, arguments)
        logger.info("Writing leads to %s (run %s)", self._safe_url(), self.run_id)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Lead):
            self.buffer.append(item)
            if len(self.buffer) >= self.config.batch_size:
                await self.flush()
        return item

    async def close_spider(self) -> None:
        await self.flush()
        if self.store is None:
            return
        if self.run_id is not None:
            counts = {
                key: value
                for key, value in self.stats.get_stats().items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            reason = str(self.stats.get_value("finish_reason") or "finished")
            try:
                await self._in_thread(self.store.finish_run, self.run_id, reason, counts)
            except SQLAlchemyError:
                logger.exception("Could not record the end of run %s", self.run_id)
        self.store.engine.dispose()

    async def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch or self.store is None:
            if batch:
                self._spill(batch, "the base never opened")
            return
        result = await self._save_with_retries(batch)
        if result is None:
            result = SaveResult()
            for lead in batch:  # one bad lead must not take its batch down with it
                try:
                    one = await self._in_thread(self.store.save, [lead], self.run_id, self.rules)
                except SQLAlchemyError as exc:
                    self._spill([lead], str(exc.__class__.__name__))
                    continue
                result.created += one.created
                result.updated += one.updated
                result.merged += one.merged
        self.stats.inc_value("leadcrawler/persist/batches")
        self.stats.inc_value("leadcrawler/persist/created", result.created)
        self.stats.inc_value("leadcrawler/persist/updated", result.updated)
        self.stats.inc_value("leadcrawler/persist/merged", result.merged)

    async def _save_with_retries(self, batch: list[Lead]) -> SaveResult | None:
        assert self.store is not None
        delay = self.config.retry_backoff
        for attempt in range(self.config.retry_times + 1):
            try:
                return await self._in_thread(self.store.save, batch, self.run_id, self.rules)
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

    def _safe_url(self) -> str:
        assert self.store is not None
        return self.store.engine.url.render_as_string(hide_password=True)

    @staticmethod
    async def _in_thread(func: Any, *args: Any) -> Any:
        # Database I/O blocks: keep it off the reactor (asyncio) thread.
        return await asyncio.to_thread(func, *args)
