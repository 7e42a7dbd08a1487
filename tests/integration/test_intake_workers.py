"""Worker processes give what the import's own process gives, and leave nothing behind."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadcrawler.enricher.config import MemoryStats, SettingsMap
from leadcrawler.enricher.enrich import mx_checker_from_settings
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
from tests.support.dnsserver import local_zone, running_dnsmasq
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


@pytest.mark.parametrize("pool_can_ask", [True, False])
def test_every_email_domain_is_asked_once_with_webmail_users_on_every_worker(
    tmp_path: Path, pool_can_ask: bool
) -> None:
    """Webmail users are spread over the workers; the pool asks their provider once and hands
    the answer on, so no worker asks it again and every lead still gets its MX verdict."""
    companies = [f"empresa{n}.com.br" for n in range(5)]
    zone = local_zone(["gmail.com", "hotmail.com", *companies])
    columns = Columns(["name", "email"], [])
    listing = []
    for n in range(80):
        domain = ("gmail.com", "hotmail.com", companies[n % 5])[n % 3]
        listing.append(build_row(n + 2, [f"Pessoa {n}", f"pessoa{n}@{domain}"], columns))
    with running_dnsmasq(tmp_path, zone, "gmail.com") as dns:
        probes = dns.logged("gmail.com")
        settings = plain_settings(
            project_settings(
                ENRICH_DNS_ENABLED=True, ENRICH_DNS_NAMESERVERS=dns.address, PERSIST_ENABLED=False
            )
        )
        setup = WorkerSetup(settings, None, None, "lista.csv", SEEN_AT)

        async def run() -> tuple[list[Outcome], WorkerPool]:
            mx = mx_checker_from_settings(SettingsMap(settings))  # the import's own checker
            assert mx is not None
            if not pool_can_ask:  # a bug or a broken socket here: the workers ask themselves

                async def broken(domain: str) -> Any:
                    raise OSError("no socket")

                mx.check = broken  # type: ignore[method-assign]
            pool = WorkerPool(setup, 2, batch_size=10, mx=mx)
            try:
                await pool.add_many(listing)
                await pool.drain()
                return pool.take_outcomes(), pool
            finally:
                await asyncio.to_thread(pool.close)
                mx.close()

        outcomes, pool = asyncio.run(run())
        webmail = 1 if pool_can_ask else 2  # else once by each worker, as before the hand-over
        assert dns.logged("gmail.com") - probes == webmail
        assert dns.logged("hotmail.com") == webmail
        assert all(dns.logged(domain) == 1 for domain in companies)
    seeded = {"gmail.com", "hotmail.com"} if pool_can_ask else set()
    assert all(pool.seeded[shard] == seeded for shard in (0, 1))
    assert sum(o.kept for o in outcomes) == 80
    assert sum(o.stats.get("leadcrawler/enrich/mx/valid-mx", 0) for o in outcomes) == 80
