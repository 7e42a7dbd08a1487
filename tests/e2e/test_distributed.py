"""Distributed crawling: two real ``scrapy crawl kiwify`` processes share one Redis queue and
dupefilter (scrapy-redis on the running Redis) and one PostgreSQL base.

Each test uses its own Redis key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from fixtureweb import FixtureWeb
from leadcrawler.domain.items import DiscoveredUrl, utcnow
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.models import FrontierUrl, LeadRow, OfferRow
from leadcrawler.storage.store import open_store
from tests.conftest import ROOT, service_missing
from tests.support.synthetic_web import write_producers

REDIS_URL = os.environ.get("LEADCRAWLER_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {REDIS_URL} ({exc})")
    prefix = f"leadcrawler-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def start_worker(
    web: FixtureWeb, database_url: str, prefix: str, log: Path, *args: str, idle_close: float = 3
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **web.proxy_env(),
        "SCRAPY_PROJECT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
    }
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "scrapy", "crawl", "kiwify", *args]
    command += ["-s", "DISTRIBUTED_ENABLED=true", "-s", f"DISTRIBUTED_KEY_PREFIX={prefix}"]
    command += ["-s", f"DISTRIBUTED_IDLE_CLOSE={idle_close}", "-s", "LOG_LEVEL=INFO"]
    command += ["-s", f"PERSIST_SPILL_DIR={log.parent / 'unsaved'}"]
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)


def wait_all(workers: list[subprocess.Popen[bytes]], logs: list[Path]) -> list[str]:
    for worker in workers:
        worker.wait(timeout=300)
    texts = [log.read_text("utf-8", "replace") for log in logs]
    for worker, text in zip(workers, texts, strict=True):
        assert worker.returncode == 0, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
    return texts


def fetched(web: FixtureWeb) -> Counter[str]:
    """Pages fetched, by URL (robots.txt is each process's own politeness cache)."""
    return Counter(
        f"https://{host}{path}" for _m, host, path in web.requests if path != "/robots.txt"
    )


def stat(log: str, key: str) -> int:
    for line in log.splitlines():
        if f"'{key}':" in line:
            return int(line.rsplit(":", 1)[1].strip(" ,}"))
    return 0


def test_two_processes_share_one_frontier_every_url_once_every_lead_once(
    tmp_path: Path, pg_url: str, redis_prefix: str
) -> None:
    producers = write_producers(tmp_path / "web", 250)
    urls = [p.checkout_url for p in producers] + [p.sales_link for p in producers]
    assert len(urls) == 500
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls), "utf-8")

    with FixtureWeb(tmp_path / "web") as web:
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        # Both workers are given the whole list, as two cron boxes would be: the shared
        # dupefilter lets each page through once.
        workers = [
            start_worker(web, pg_url, redis_prefix, log, "-a", f"urls_file={urls_file}")
            for log in logs
        ]
        texts = wait_all(workers, logs)
        pages = fetched(web)

    # Every URL fetched once by the pair: checkouts, sales links, and each site's two pages.
    expected = set(urls) | {p.site for p in producers} | {p.site + "contato" for p in producers}
    assert set(pages) == expected
    assert [url for url, n in pages.items() if n > 1] == []
    # Both processes did part of the work.
    done = [stat(text, "leadcrawler/distributed/dequeued") for text in texts]
    assert all(n > 50 for n in done), done
    assert sum(stat(text, "leadcrawler/distributed/duplicate") for text in texts) >= 500

    # Every lead stored once: one lead per producer holding its checkout and its site.
    store = open_store(pg_url)
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 250
        assert session.scalar(select(func.count()).select_from(OfferRow)) == 500
    rows = {row["name"]: row for row in store.iter_leads()}
    store.engine.dispose()
    for p in producers:
        row = rows[p.name]
        assert p.email in {c["value"] for c in row["contacts"]}
        assert {o["checkout_url"] for o in row["offers"]} >= {p.checkout_url}
    # The last worker out removed the crawl's keys: the next crawl starts afresh.
    client = redis.Redis.from_url(REDIS_URL)
    assert list(client.scan_iter(f"{redis_prefix}:*")) == []
    client.close()


def test_idle_workers_take_what_discovery_adds_to_the_frontier(
    tmp_path: Path, pg_url: str, redis_prefix: str
) -> None:
    producers = write_producers(tmp_path / "web", 40)
    store = open_store(pg_url)
    frontier = FrontierStore(store.engine)

    def discover(batch: list[str]) -> None:
        frontier.add(
            [
                DiscoveredUrl(platform="kiwify", url=u, discovered_by="wayback", seen_at=utcnow())
                for u in batch
            ]
        )

    discover([p.checkout_url for p in producers[:20]])
    with FixtureWeb(tmp_path / "web") as web:
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        workers = [
            start_worker(web, pg_url, redis_prefix, log, "-a", "limit=5", idle_close=12)
            for log in logs
        ]
        # Discovery finds more while the workers run: idle workers claim them.
        deadline_pages = {p.checkout_url for p in producers[:20]}
        for _ in range(600):
            if deadline_pages <= set(fetched(web)):
                break
            if any(w.poll() is not None for w in workers):
                break
            time.sleep(0.1)
        discover([p.checkout_url for p in producers[20:]])
        wait_all(workers, logs)
        pages = fetched(web)

    checkouts = {p.checkout_url for p in producers}
    assert checkouts <= set(pages)
    assert [url for url in checkouts if pages[url] > 1] == []
    with store.sessions() as session:
        statuses = Counter(session.scalars(select(FrontierUrl.status)))
        assert statuses == {"done": 40}
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 40
    store.engine.dispose()
