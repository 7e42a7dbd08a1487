"""Two writers on PostgreSQL at once leave exactly one lead per producer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from leadcrawler.storage.models import LeadKey, LeadRow
from leadcrawler.storage.store import open_store
from tests.e2e.test_e2e_kiwify import ALL_URLS, counts
from tests.support.concurrent_writer import PRODUCERS

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_writing_the_same_producers(pg_url: str) -> None:
    open_store(pg_url).engine.dispose()  # migrate first, as a crawl's first stage would
    start_at = time.time() + 2.0
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.concurrent_writer",
                pg_url,
                str(seed),
                str(start_at),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (0, 1)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-3000:]
    store = open_store(pg_url)
    with store.sessions() as session:
        leads = session.scalar(select(func.count()).select_from(LeadRow))
        per_email = session.execute(
            select(LeadKey.key, func.count())
            .where(LeadKey.key.like("email:%"))
            .group_by(LeadKey.key)
        ).all()
    store.engine.dispose()
    assert leads == PRODUCERS
    assert len(per_email) == PRODUCERS
    rows = list(open_store(pg_url).iter_leads())
    assert all(len(row["offers"]) == 2 for row in rows)  # each writer's checkout joined one lead


def test_two_concurrent_crawls_leave_no_duplicate(run_crawl, pg_url: str, fixture_web) -> None:  # type: ignore[no-untyped-def]
    import os

    open_store(pg_url).engine.dispose()
    env = {
        **os.environ,
        **fixture_web.proxy_env(),
        "SCRAPY_PROJECT": "test",
        "DATABASE_URL": pg_url,
    }
    crawls = [
        subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "kiwify", "-a", "urls=" + ",".join(urls)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for urls in (ALL_URLS, list(reversed(ALL_URLS)))
    ]
    for crawl in crawls:
        _, err = crawl.communicate(timeout=180)
        assert crawl.returncode == 0, err[-3000:]
    both = counts(pg_url)
    # The same crawl alone, into a fresh base, for comparison.
    alone_url = pg_url  # reuse: a third run must add nothing either
    again = run_crawl("kiwify", alone_url, "urls=" + ",".join(ALL_URLS))
    assert again.returncode == 0
    after = counts(alone_url)
    assert both["leads"] == after["leads"]
    assert both["offers"] == after["offers"]
    producers = {row["name"] for row in open_store(pg_url).iter_leads()}
    assert len(producers) == both["leads"]  # no name appears on two leads
