"""Two writers on one SQLite file (the default base, overlapping cron runs): issue 14, item 3.

Identity resolution and the write it decides are one ``BEGIN IMMEDIATE`` transaction, and
so is the migration: neither a duplicate lead nor ``table leads already exists``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from leadcrawler.storage.models import LeadKey, LeadRow
from leadcrawler.storage.store import open_store
from tests.e2e.test_e2e_kiwify import ALL_URLS, EXPECTED, counts
from tests.support.concurrent_writer import PRODUCERS

ROOT = Path(__file__).resolve().parents[2]


def test_two_writers_on_a_new_sqlite_file_store_each_producer_once(sqlite_url: str) -> None:
    start_at = time.time() + 3.0
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.concurrent_writer",
                sqlite_url,
                str(seed),
                str(start_at),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (0, 1)
    ]
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    for writer, err in zip(writers, errors, strict=True):
        assert writer.returncode == 0, err[-3000:]
    store = open_store(sqlite_url)
    with store.sessions() as session:
        leads = session.scalar(select(func.count()).select_from(LeadRow))
        emails = session.scalar(
            select(func.count()).select_from(LeadKey).where(LeadKey.key.like("email:%"))
        )
    store.engine.dispose()
    assert (leads, emails) == (PRODUCERS, PRODUCERS)


def test_two_crawls_at_once_on_a_new_sqlite_file(sqlite_url: str, fixture_web) -> None:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        **fixture_web.proxy_env(),
        "SCRAPY_PROJECT": "test",
        "DATABASE_URL": sqlite_url,
    }
    crawls = [
        subprocess.Popen(
            # The browser rung is not what this is about (and is slow on a loaded machine).
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "kiwify",
                "-a",
                "urls=" + ",".join(urls),
                "-s",
                "RENDER_ENABLED=False",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for urls in (ALL_URLS, list(reversed(ALL_URLS)))
    ]
    errors = [crawl.communicate(timeout=180)[1] for crawl in crawls]
    for crawl, err in zip(crawls, errors, strict=True):
        assert crawl.returncode == 0, err[-3000:]
        assert "already exists" not in err, err[-3000:]
    producers = {c["producer"] for c in EXPECTED["checkouts"] if c.get("producer")}
    assert counts(sqlite_url)["leads"] == len(producers)
