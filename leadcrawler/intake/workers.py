"""Raw rows through the enricher, in batches, in this process or in worker processes.

A list is CPU work (parse every e-mail and phone, judge, score, write), so an import uses
every core: ``INTAKE_WORKERS`` processes (``0``: one per core for files of 2 MB and more,
where starting the workers pays off; this process for smaller ones), each with its own chain and
its own connection to the same base, each writing whole batches. Rows are routed by the
domain of their first e-mail (else their first phone): the same person written twice lands
on the same worker, and each e-mail domain is asked once (the MX cache is per process).
Workers that write the same lead at once are safe for the reasons concurrent crawls are
(the writer resolves identity again inside its transaction, under advisory locks on
PostgreSQL and ``BEGIN IMMEDIATE`` on SQLite).

A batch a worker could not finish is reported with its lines (reason ``error``), never
dropped in silence. Knows no Scrapy: the intake spider (the Scrapy side) drives it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import pickle
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.context import BaseContext
from typing import Any

from leadcrawler.domain.emails import is_free_provider
from leadcrawler.domain.items import ContactStatus, Lead
from leadcrawler.enricher.config import MemoryStats, SettingsMap
from leadcrawler.enricher.dns import MxChecker, MxResult
from leadcrawler.enricher.service import Chain
from leadcrawler.intake.reader import RawRow
from leadcrawler.intake.rows import Reject, line_of, to_lead
from leadcrawler.storage.base import Base

logger = logging.getLogger(__name__)


def invalid_detail(lead: Lead) -> str:
    """Why a rejected lead's contacts were judged invalid, for the rejects file."""
    return "; ".join(
        f"{c.kind}: {c.details.get('invalid_reason', 'invalid')}"
        for c in lead.contacts
        if c.status == ContactStatus.INVALID
    )


@dataclass
class Outcome:
    """What one batch of rows became: rejects (with lines), the leads kept, and the
    counters the batch added (only from a worker: in this process they go straight to
    the crawl's stats)."""

    rejects: list[Reject] = field(default_factory=list)
    kept: int = 0
    stats: dict[str, int | float] = field(default_factory=dict)


class RowEnricher:
    """Raw rows -> leads -> ``chain.process_batch``; the rows' rejects come back."""

    def __init__(self, chain: Chain, source_name: str, seen_at: datetime) -> None:
        self.chain = chain
        self.source_name = source_name
        self.seen_at = seen_at

    async def enrich(self, rows: list[RawRow]) -> Outcome:
        outcome = Outcome()
        leads: list[Lead] = []
        for row in rows:
            result = to_lead(row, self.source_name, self.seen_at)
            if isinstance(result, Reject):
                outcome.rejects.append(result)
            else:
                leads.append(result)
        kept, rejected = await self.chain.process_batch(leads)
        outcome.kept = len(kept)
        for rejection in rejected:
            line = line_of(rejection.lead.sighting.url)
            if line is not None:
                outcome.rejects.append(
                    Reject(line, rejection.reason.reason, invalid_detail(rejection.lead))
                )
        return outcome


def shard_of(row: RawRow, shards: int) -> int:
    """The worker for ``row``: by its first e-mail's domain, else its first phone.

    A webmail provider's people (``gmail.com``, ``hotmail.com``...: most of a real list) are
    spread by their address instead: routed by domain, half a list would land on one worker
    while the others idle. Such a domain is asked once by the pool and its answer handed to
    the workers (:class:`WorkerPool`); every other domain stays on one worker, asked once.
    """
    if shards == 1:
        return 0
    email = row.first("email")
    if email and "@" in email:
        address = email.strip().lower()
        key = address.rpartition("@")[2]
        if is_free_provider(key):
            key = address
    else:
        phone = row.first("phone") or row.first("whatsapp") or ""
        key = "".join(ch for ch in phone if ch.isdigit())[-8:] or str(row.line)
    return zlib.crc32(key.encode("utf-8", "replace")) % shards


AUTO_WORKERS_FROM_BYTES = 2_000_000  # about 20,000 rows: below that, starting workers costs more


def worker_count(setting: int, file_size: int) -> int:
    """``INTAKE_WORKERS``; ``0`` is one per core for a big file, this process for a small one."""
    if setting > 0:
        return setting
    if file_size < AUTO_WORKERS_FROM_BYTES:
        return 1
    return max(1, os.cpu_count() or 1)


def plain_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings a worker's chain needs, leaving out what cannot cross a process."""
    plain: dict[str, Any] = {}
    for name, value in values.items():
        try:
            pickle.dumps(value)
        except Exception:
            logger.debug("Setting %s stays in the main process", name)
            continue
        plain[name] = value
    return plain


@dataclass(frozen=True)
class WorkerSetup:
    settings: dict[str, Any]
    database_url: str | None
    run_id: int | None
    source_name: str
    seen_at: datetime
    # The host's logging (level, file) and what it installs first (the log masking):
    # a worker logs like the process that started it.
    log_level: str = "WARNING"
    log_file: str | None = None
    prepare: Callable[[], None] | None = None


class _Worker:
    """One worker process's chain, base and event loop (built once, by ``_start``)."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.stats = MemoryStats()
        self.chain = Chain(SettingsMap(setup.settings), self.stats)
        self.base = None
        if setup.database_url is not None and self.chain.persister is not None:
            self.base = Base.open(setup.database_url, auto_migrate=False)  # the parent did
        self.chain.use_base(self.base)
        if self.chain.persister is not None:
            self.chain.persister.run_id = setup.run_id  # the parent's run: one run per import
        self.rows = RowEnricher(self.chain, setup.source_name, setup.seen_at)
        self.loop = asyncio.new_event_loop()

    def enrich(self, rows: list[RawRow]) -> Outcome:
        outcome = self.loop.run_until_complete(self._enrich(rows))
        outcome.stats = {
            key: value
            for key, value in self.stats.get_stats().items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        self.stats.values.clear()
        return outcome

    def remember(self, seeds: Seeds) -> None:
        enricher = self.chain.enricher
        if enricher is not None and enricher.mx is not None:
            for domain, result in seeds:
                enricher.mx.remember(domain, result)

    async def _enrich(self, rows: list[RawRow]) -> Outcome:
        outcome = await self.rows.enrich(rows)
        if self.chain.persister is not None:
            await self.chain.persister.flush()  # written before the batch is reported done
        return outcome

    def coverage(self) -> tuple[int, float, Counter[str], Counter[str]]:
        enricher = self.chain.enricher
        if enricher is None:
            return 0, 0.0, Counter(), Counter()
        return enricher.leads, enricher.seconds, enricher.covered, enricher.steps


_worker: _Worker | None = None


YOUNG_GC_THRESHOLD = 10_000  # new objects between two young collections (Python: 700)


def settle_heap() -> None:
    """Start-up is over (imports, the chain, the crawl's components): what it built lives
    as long as the process. ``gc.freeze`` takes it out of the cyclic collector's sight, so
    a full collection no longer walks the ~130,000 (a worker) to ~210,000 (the crawl's
    process) objects that never die; and a young collection waits for 10,000 new objects
    instead of 700, as rows and leads come and go by the thousand. Cycles made later are
    still collected; nothing but memory depends on when.

    Measured on the bench's 100,000 rows: the collector's time in a worker 3.3 -> 0.55
    CPU-s, in the crawl's process 1.1 -> 0.1 CPU-s."""
    gc.freeze()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), *older)


def _start(setup: WorkerSetup) -> None:
    global _worker
    if setup.prepare is not None:
        setup.prepare()
    logging.basicConfig(
        level=setup.log_level,
        filename=setup.log_file,
        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s",
    )
    _worker = _Worker(setup)
    settle_heap()


# A row as it crosses to a worker: its line, values and problems. Plain tuples pickle and
# unpickle in about a third of the time of the RawRow dataclasses they carry (slots
# dataclasses pickle field by field through Python code).
WireRow = tuple[int, dict[str, list[str]], list[str]]


def to_wire(rows: list[RawRow]) -> list[WireRow]:
    return [(row.line, row.values, row.problems) for row in rows]


def from_wire(wire: list[WireRow]) -> list[RawRow]:
    return [RawRow(line, values, problems) for line, values, problems in wire]


def webmail_domains(row: RawRow) -> list[str]:
    """The webmail providers among ``row``'s e-mail domains (as the free-mail list spells them)."""
    found = []
    for email in row.values.get("email", ()):
        domain = email.rpartition("@")[2].strip().rstrip(".").lower()
        if domain and is_free_provider(domain):
            found.append(domain)
    return found


# MX answers the pool asked for a worker: (domain, answer).
Seeds = list[tuple[str, MxResult]]


def _enrich(wire: list[WireRow], seeds: Seeds | None = None) -> Outcome:
    assert _worker is not None
    if seeds:
        _worker.remember(seeds)
    return _worker.enrich(from_wire(wire))


def _coverage() -> tuple[int, float, Counter[str], Counter[str]]:
    assert _worker is not None
    return _worker.coverage()


_forkserver_lock = threading.Lock()
_forkserver_pools = 0  # open pools whose workers come from the fork server


def _context(setup: WorkerSetup) -> BaseContext:
    """How worker processes start: never by forking this process (a running reactor,
    threads). ``forkserver`` where there is one (Linux, macOS): a fresh server process
    imports what a worker runs once and forks each worker from it, so N workers cost one
    set of imports (~0.8 CPU-s: the chain, SQLAlchemy, Scrapy for the log masking) instead
    of N. Else ``spawn``: each worker a fresh interpreter."""
    global _forkserver_pools
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    preload = [__name__]
    if setup.prepare is not None:
        preload.append(setup.prepare.__module__)
    with _forkserver_lock:
        context.set_forkserver_preload(preload)  # once the server runs, it keeps what it has
        _forkserver_pools += 1
    return context


def _release(context: BaseContext) -> None:
    """The last pool closed: stop the fork server and reap it. Else it would outlive the
    import's workers until this process exits, and its CPU time (its workers' included)
    would be missing from this process's children, as ``time`` and the benches see them."""
    global _forkserver_pools
    if context.get_start_method() != "forkserver":
        return
    with _forkserver_lock:
        _forkserver_pools -= 1
        if _forkserver_pools > 0:
            return
        from multiprocessing import forkserver

        # No public way to stop it; ``_stop`` (close its pipe, wait for it) is what
        # CPython's own tests use. Without it the server simply lives on.
        stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
        if stop is not None:
            try:
                stop()
            except OSError as exc:  # it is gone already: nothing left to reap
                logger.debug("Fork server not stopped: %s", exc)


class WorkerPool:
    """``size`` worker processes, one per shard of the rows (a row always goes to the same
    one). Async: ``add_many`` returns when the workers have room, ``drain`` waits for all.

    ``mx``: this process's MX checker. A webmail domain's rows go to every worker, so the
    pool asks it once here and hands the answer to each worker with its first batch that
    needs it: every e-mail domain of an import is asked once, webmail or not."""

    def __init__(
        self, setup: WorkerSetup, size: int, batch_size: int, mx: MxChecker | None = None
    ) -> None:
        self.context = context = _context(setup)
        self.executors = [
            ProcessPoolExecutor(1, mp_context=context, initializer=_start, initargs=(setup,))
            for _ in range(size)
        ]
        self.batch_size = batch_size
        self.pending: list[list[RawRow]] = [[] for _ in range(size)]
        self.running: list[list[tuple[asyncio.Future[Outcome], list[RawRow]]]] = [
            [] for _ in range(size)
        ]
        self.outcomes: list[Outcome] = []
        self.closed = False
        self.mx = mx if size > 1 else None  # one worker asks everything itself, once
        self.webmail: dict[str, MxResult | None] = {}  # asked here (None: failed)
        self.seeded: list[set[str]] = [set() for _ in range(size)]  # handed to each worker
        self.wanted: list[set[str]] = [set() for _ in range(size)]  # for its next batch

    @property
    def size(self) -> int:
        return len(self.executors)

    async def add_many(self, rows: list[RawRow]) -> None:
        """Each row to its shard's next batch, in order; a full batch goes to its worker."""
        size, batch_size, pending = self.size, self.batch_size, self.pending
        mx = self.mx
        for row in rows:
            shard = shard_of(row, size)
            if mx is not None:
                for domain in webmail_domains(row):
                    if domain not in self.webmail:
                        self.webmail[domain] = await self._ask(mx, domain)
                    if self.webmail[domain] is not None and domain not in self.seeded[shard]:
                        self.wanted[shard].add(domain)
            bucket = pending[shard]
            bucket.append(row)
            if len(bucket) >= batch_size:
                await self._send(shard)  # a new, empty bucket for the shard

    @staticmethod
    async def _ask(mx: MxChecker, domain: str) -> MxResult | None:
        """``domain``'s MX answer for the workers; None (each worker asks for itself, as
        it would have) if asking here failed: a row is never lost to this shortcut."""
        try:
            return await mx.check(domain)
        except Exception as exc:
            logger.warning("MX of %s not asked for the workers: %r", domain, exc)
            return None

    async def _send(self, shard: int) -> None:
        rows, self.pending[shard] = self.pending[shard], []
        if not rows:
            return
        running = self.running[shard]
        while len(running) >= 2:  # one batch working, one waiting: memory stays flat
            await self._collect(running.pop(0))
        loop = asyncio.get_running_loop()
        wanted, self.wanted[shard] = self.wanted[shard], set()
        self.seeded[shard] |= wanted
        seeds = [(d, a) for d in sorted(wanted) if (a := self.webmail[d]) is not None]
        future = loop.run_in_executor(self.executors[shard], _enrich, to_wire(rows), seeds)
        running.append((future, rows))

    async def _collect(self, entry: tuple[asyncio.Future[Outcome], list[RawRow]]) -> None:
        future, rows = entry
        try:
            outcome = await future
        except Exception as exc:
            logger.error(
                "A worker could not enrich %d rows (%s); they are in the rejects file",
                len(rows),
                exc.__class__.__name__,
            )
            outcome = Outcome(rejects=[Reject(row.line, "error", "worker failed") for row in rows])
        self.outcomes.append(outcome)

    def take_outcomes(self) -> list[Outcome]:
        outcomes, self.outcomes = self.outcomes, []
        return outcomes

    async def drain(self) -> None:
        """Send what is pending and wait for every batch."""
        for shard in range(self.size):
            await self._send(shard)
        for running in self.running:
            while running:
                await self._collect(running.pop(0))

    async def coverage(self) -> list[tuple[int, float, Counter[str], Counter[str]]]:
        loop = asyncio.get_running_loop()
        found = []
        for executor in self.executors:
            try:
                found.append(await loop.run_in_executor(executor, _coverage))
            except Exception as exc:
                logger.warning("A worker's coverage is lost: %s", exc.__class__.__name__)
        return found

    def close(self) -> None:
        for executor in self.executors:
            executor.shutdown(wait=True, cancel_futures=True)
        if not self.closed:
            self.closed = True
            _release(self.context)
