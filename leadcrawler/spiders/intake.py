"""Raw lead lists through the same chain as a crawl.

  scrapy crawl intake -a file=leads.csv [-a map="Contato Comercial=email,..."]
  leadcrawler enrich leads.csv          (the same, with a summary and a progress bar)

Each record of the file (CSV, XLSX, JSON Lines: :mod:`leadcrawler.intake.reader`)
becomes a lead with the provenance ``import:<file name>#<line>`` and the import's time;
a lead with a website gets the same website visit as a crawled one, through Scrapy's
downloader (robots.txt, throttling, the SSRF guard...), unless ``ENRICH_SITE_ENABLED`` is
off (``--skip-sites``). Then normalize → validate → enrich → dedupe → qualify → persist,
exactly as for a crawl; the run is recorded like one.

Nothing is silently lost: a record with nothing that reaches anyone, an unreadable one,
and one the chain drops (no valid e-mail, phone, profile, CNPJ or site) are written to
the rejects file (``<input>.rejects.csv`` beside the input, or ``-a rejects=PATH``) with
their line and reason, and counted as ``leadcrawler/intake/rejected/<reason>``.

Settings: ``INTAKE_PROGRESS`` (a progress bar on the terminal), ``INTAKE_READ_BATCH``
(records read per trip to the reader thread), ``INTAKE_MAX_IN_FLIGHT`` (leads in the chain
at once: memory stays flat however long the file). The spider turns on
``VALIDATE_REQUIRE_CONTACT``: a name alone is not a lead.
"""

from __future__ import annotations

import asyncio
import csv
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.settings import BaseSettings

from leadcrawler.domain.items import Lead, utcnow
from leadcrawler.domain.urls import canonical_url
from leadcrawler.enricher import Chain
from leadcrawler.extensions import EnricherExtension
from leadcrawler.intake.config import IntakeConfig
from leadcrawler.intake.reader import IntakeError, RawRow, Source, open_source, parse_mapping
from leadcrawler.intake.rows import Reject, line_of, to_lead
from leadcrawler.intake.workers import (
    Outcome,
    RowEnricher,
    WorkerPool,
    WorkerSetup,
    invalid_detail,
    plain_settings,
    settle_heap,
    worker_count,
)
from leadcrawler.logformatter import install_log_masking
from leadcrawler.pipelines.privacy import SuppressedLead
from leadcrawler.spiders.base import UsageError
from leadcrawler.spiders.sitevisit import SiteVisitMixin

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def rejects_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def split_map(value: str | list[str] | None) -> list[str]:
    """``-a map=`` as ``col=field,col=field`` or a JSON list of ``col=field``."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    text = value.strip()
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [part for part in text.split(",") if part.strip()]


def _take(rows: Iterator[RawRow], count: int) -> list[RawRow]:
    taken: list[RawRow] = []
    for row in rows:
        taken.append(row)
        if len(taken) >= count:
            break
    return taken


class DirectRows:
    """Where rows with nothing to visit go: batches through the chain."""

    async def add_many(self, rows: list[RawRow]) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        raise NotImplementedError

    def take_outcomes(self) -> list[Outcome]:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class InProcessRows(DirectRows):
    """``INTAKE_WORKERS = 1``: the crawl's own chain, in this process."""

    def __init__(self, rows: RowEnricher, batch_size: int) -> None:
        self.rows = rows
        self.batch_size = batch_size
        self.pending: list[RawRow] = []
        self.outcomes: list[Outcome] = []

    async def add_many(self, rows: list[RawRow]) -> None:
        for row in rows:
            self.pending.append(row)
            if len(self.pending) >= self.batch_size:
                await self.drain()

    async def drain(self) -> None:
        rows, self.pending = self.pending, []
        if rows:
            self.outcomes.append(await self.rows.enrich(rows))

    def take_outcomes(self) -> list[Outcome]:
        outcomes, self.outcomes = self.outcomes, []
        return outcomes


class PooledRows(DirectRows):
    """Worker processes; their enrichment coverage joins the crawl's at the end."""

    def __init__(self, pool: WorkerPool, chain: Chain) -> None:
        self.pool = pool
        self.chain = chain

    async def add_many(self, rows: list[RawRow]) -> None:
        await self.pool.add_many(rows)

    async def drain(self) -> None:
        await self.pool.drain()
        enricher = self.chain.enricher
        if enricher is not None:
            for leads, seconds, covered, steps in await self.pool.coverage():
                enricher.leads += leads
                enricher.seconds += seconds
                enricher.covered.update(covered)
                enricher.steps.update(steps)

    def take_outcomes(self) -> list[Outcome]:
        return self.pool.take_outcomes()

    async def close(self) -> None:
        await asyncio.to_thread(self.pool.close)


class IntakeSpider(SiteVisitMixin, scrapy.Spider):
    name = "intake"

    def __init__(
        self,
        file: str | None = None,
        map: str | list[str] | None = None,
        rejects: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not file:
            raise UsageError("intake needs -a file=PATH (a .csv, .xlsx or .jsonl list)")
        self.path = Path(file)
        try:
            self.mapping = parse_mapping(split_map(map))
        except (IntakeError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        self.rejects_path = Path(rejects) if rejects else rejects_path_for(self.path)
        self.arguments = {"file": self.path.name, "map": split_map(map)}
        self.rejects: list[Reject] = []
        self.unknown_columns: list[str] = []
        self.started = time.monotonic()
        self.progress: Any = None
        self.in_flight = 0  # leads yielded and not yet through the chain
        self.config = IntakeConfig()  # the crawl's INTAKE_* settings, set by from_crawler

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        settings.set("VALIDATE_REQUIRE_CONTACT", True, priority="spider")
        # A list arrives all at once: bigger transactions than a crawl's trickle.
        settings.set("PERSIST_BATCH_SIZE", 1000, priority="spider")
        # The in-run identity memory only has to cover rows not yet in the base (the batch
        # in hand and the one being written): the base answers for the rest, once a batch.
        # Bounded small, memory stays flat however long the list.
        settings.set("DEDUPE_MAX_KEYS_IN_MEMORY", 20_000, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = IntakeConfig.from_settings(crawler.settings)  # ConfigError: one line
        crawler.signals.connect(spider.on_scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider.on_dropped, signal=signals.item_dropped)
        crawler.signals.connect(spider.on_error, signal=signals.item_error)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        try:
            source = await asyncio.to_thread(open_source, self.path, self.mapping)
        except IntakeError as exc:
            self.logger.error("Cannot import %s: %s", self.path.name, exc)
            self._inc("unreadable_file")
            return
        self.unknown_columns = source.unknown_columns()
        self._start_progress(source)
        batch = self.config.read_batch
        in_flight_max = self.config.max_in_flight
        seen_at = utcnow()
        sites = self._site_config().enabled
        direct = await self._direct_enricher(seen_at)
        settle_heap()  # this process's start-up is over too
        self.logger.info("Importing %s (%s)", self.path.name, source.kind)
        try:
            while rows := await asyncio.to_thread(_take, source.rows, batch):
                self._inc("rows_read", len(rows))
                direct_rows: list[RawRow] = []  # nothing to visit: enriched in batches
                for row in rows:
                    for problem in row.problems:
                        self._inc(f"cells/{problem.partition(':')[0]}")
                    if not (sites and row.first("website")):
                        direct_rows.append(row)
                        continue
                    if direct_rows:  # in the file's order, before this row's visit
                        await direct.add_many(direct_rows)
                        direct_rows = []
                    result = to_lead(row, self.path.name, seen_at)
                    if isinstance(result, Reject):
                        self.reject(result)
                        continue
                    result.website = canonical_url(result.website, assume_scheme="https")
                    while self.in_flight >= in_flight_max:
                        # Scrapy does not hold back items yielded by start(): without this
                        # the whole file would wait in memory for the chain.
                        await asyncio.sleep(0.005)
                    self.in_flight += 1
                    for output in self.visit_site(result):
                        yield output
                if direct_rows:
                    await direct.add_many(direct_rows)
                self._record(direct.take_outcomes())
                self._advance_progress(source)
            await direct.drain()
            self._record(direct.take_outcomes())
        finally:
            source.close()
            await direct.close()
            unknown = source.unknown_columns()
            if unknown != self.unknown_columns:
                self.unknown_columns = unknown

    async def _direct_enricher(self, seen_at: datetime) -> DirectRows:
        """Rows with no website to visit skip Scrapy's per-item path: they go through the
        same chain as the item pipelines, a batch at a time, in ``INTAKE_WORKERS``
        processes (:mod:`leadcrawler.intake.workers`)."""
        settings = self.crawler.settings
        chain = EnricherExtension.of(self.crawler).chain
        batch = max(1, settings.getint("PERSIST_BATCH_SIZE"))
        workers = worker_count(self.config.workers, self.path.stat().st_size)
        if workers == 1:
            return InProcessRows(RowEnricher(chain, self.path.name, seen_at), batch)
        base = chain.base
        setup = WorkerSetup(
            settings=plain_settings(settings.copy_to_dict()),
            database_url=(
                base.engine.url.render_as_string(hide_password=False) if base is not None else None
            ),
            run_id=chain.persister.run_id if chain.persister is not None else None,
            source_name=self.path.name,
            seen_at=seen_at,
            log_level=str(settings.get("LOG_LEVEL") or "WARNING"),
            log_file=settings.get("LOG_FILE"),
            prepare=install_log_masking,
        )
        self.logger.info("Enriching in %d worker processes", workers)
        mx = chain.enricher.mx if chain.enricher is not None else None
        return PooledRows(WorkerPool(setup, workers, batch, mx), chain)

    def _record(self, outcomes: list[Outcome]) -> None:
        assert self.crawler.stats is not None
        for outcome in outcomes:
            self._inc("enriched_in_batches", outcome.kept)
            for key, value in outcome.stats.items():
                self.crawler.stats.inc_value(key, value)  # type: ignore[arg-type]
            for reject in outcome.rejects:
                self.reject(reject)

    # --- rejects ------------------------------------------------------------------------

    def reject(self, reject: Reject) -> None:
        self.rejects.append(reject)
        self._inc("rejected")
        self._inc(f"rejected/{reject.reason}")

    def on_scraped(self, item: Any, response: Any, spider: Any) -> None:
        if isinstance(item, Lead):
            self.in_flight -= 1

    def on_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        if not isinstance(item, Lead):
            return
        self.in_flight -= 1
        line = line_of(item.sighting.url)
        if line is None:
            return
        if isinstance(exception, SuppressedLead):
            reason = "suppressed"
        else:
            reason = str(exception).partition(":")[0].strip() or "dropped"
        self.reject(Reject(line, reason, invalid_detail(item)))

    def on_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        if isinstance(item, Lead):
            self.in_flight -= 1
        if isinstance(item, Lead) and (line := line_of(item.sighting.url)) is not None:
            self.reject(Reject(line, "error", failure.type.__name__ if failure.type else ""))

    def on_closed(self, spider: Any, reason: str) -> None:
        self._stop_progress()
        seconds = max(time.monotonic() - self.started, 1e-6)
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        rows = int(stats.get_value("leadcrawler/intake/rows_read", 0))
        stats.set_value("leadcrawler/intake/seconds", round(seconds, 3))
        stats.set_value("leadcrawler/intake/rows_per_second", round(rows / seconds, 1))
        stats.set_value("leadcrawler/intake/unknown_columns", len(self.unknown_columns))
        self.write_rejects()

    def write_rejects(self) -> None:
        if not self.rejects:
            self.rejects_path.unlink(missing_ok=True)  # a stale file from an earlier run
            return
        with self.rejects_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason", "detail"])
            for reject in sorted(self.rejects, key=lambda r: r.line):
                writer.writerow([reject.line, reject.reason, reject.detail])

    # --- progress and stats ---------------------------------------------------------------

    def _start_progress(self, source: Source) -> None:
        if not self.crawler.settings.getbool("INTAKE_PROGRESS"):
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        total = self.path.stat().st_size if source.position() is not None else None
        self.progress = Progress(
            TextColumn(f"Importing {self.path.name}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            TimeRemainingColumn(),
            transient=True,
        )
        self.progress.start()
        self.progress_task = self.progress.add_task("import", total=total, rows=0)

    def _advance_progress(self, source: Source) -> None:
        if self.progress is None:
            return
        assert self.crawler.stats is not None
        rows = self.crawler.stats.get_value("leadcrawler/intake/rows_read", 0)
        self.progress.update(self.progress_task, completed=source.position(), rows=rows)

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"leadcrawler/intake/{key}", count)
