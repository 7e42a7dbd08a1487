"""Worker processes give what the import's own process gives, and leave nothing behind."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from datetime import UTC, datetime

import pytest

from leadcrawler.enricher.config import MemoryStats, SettingsMap
from leadcrawler.enricher.service import Chain
from leadcrawler.intake.reader import Columns, RawRow, build_row
from leadcrawler.intake.workers import (
    Outcome,
    RowEnricher,
    WorkerPool,
    WorkerSetup,
    plain_settings,
)
from leadcrawler.logformatter import install_log_masking
from tests.support.factories import project_settings

SEEN_AT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def rows() -> list[RawRow]:
    columns = Columns(["name", "email", "phone", "company"], [])
    found = []
    for n in range(60):
        cells = [f"Pessoa {n}", f"pessoa{n}@empresa{n % 7}.com.br", f"(11) 9{n:04d}-{n:04d}", ""]
        if n % 10 == 3:
            cells = ["", "", "", "Empresa"]  # nothing to reach
        if n % 10 == 6:
            cells = [f"Pessoa {n}", "x@y", "12", ""]  # nothing valid
        if n % 10 == 8:
            cells[1] = f"pessoa{n}@empresa{n % 7}.com.br; outra{n}@gmail.com"
        found.append(build_row(n + 2, cells, columns))
    found.append(RawRow(70, problems=["unreadable: new-line character seen"]))
    return found


def summary(outcomes: list[Outcome]) -> tuple[int, list[tuple[int, str, str]]]:
    kept = sum(o.kept for o in outcomes)
    rejects = sorted((r.line, r.reason, r.detail) for o in outcomes for r in o.rejects)
    return kept, rejects


@pytest.mark.parametrize("size", [1, 3])
def test_worker_processes_keep_and_reject_what_this_process_would(size: int) -> None:
    settings = plain_settings(
        project_settings(
            ENRICH_DNS_ENABLED=False, PERSIST_ENABLED=False, VALIDATE_REQUIRE_CONTACT=True
        )
    )
    here = RowEnricher(Chain(SettingsMap(settings), MemoryStats()), "lista.csv", SEEN_AT)
    expected = summary([asyncio.run(here.enrich(rows()))])
    assert expected[0] == 48
    assert {reason for _, reason, _ in expected[1]} == {
        "nothing_to_reach",
        "nothing_valid",
        "unreadable",
    }

    setup = WorkerSetup(
        settings=settings,
        database_url=None,
        run_id=None,
        source_name="lista.csv",
        seen_at=SEEN_AT,
        prepare=install_log_masking,
    )
    pool = WorkerPool(setup, size, batch_size=7)

    async def run() -> list[Outcome]:
        try:
            await pool.add_many(rows())
            await pool.drain()
            return pool.take_outcomes()
        finally:
            await asyncio.to_thread(pool.close)

    assert summary(asyncio.run(run())) == expected


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="spawn only here"
)
def test_the_fork_server_is_stopped_and_reaped_when_the_last_pool_closes() -> None:
    from multiprocessing import forkserver

    server = forkserver._forkserver  # type: ignore[attr-defined]
    settings = plain_settings(project_settings(ENRICH_DNS_ENABLED=False, PERSIST_ENABLED=False))
    setup = WorkerSetup(settings, None, None, "lista.csv", SEEN_AT)
    first, second = WorkerPool(setup, 1, 5), WorkerPool(setup, 1, 5)

    async def run(pool: WorkerPool) -> None:
        await pool.add_many(rows()[:10])
        await pool.drain()

    asyncio.run(run(first))
    asyncio.run(run(second))
    pid = server._forkserver_pid
    assert pid is not None
    first.close()
    assert server._forkserver_pid == pid  # the second pool still forks from it
    second.close()
    second.close()  # twice: no harm
    assert server._forkserver_pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # already reaped by this process
