"""Faults with real processes: the base goes away in the middle of a crawl.

Each test owns a throw-away PostgreSQL cluster (tests/pgcluster.py) that it stops with an
immediate shutdown while ``scrapy crawl kiwify`` runs, and never touches the shared server.
What a user checks afterwards: every producer is in the base once, nothing is left parked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from fixtureweb import FixtureWeb
from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.models import FrontierUrl
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES, ROOT, service_missing
from tests.support import pgcluster
from tests.support.synthetic_web import Producer, write_producers

PRODUCERS = 60


@pytest.fixture
def cluster() -> Iterator[pgcluster.ThrowawayPostgres]:
    why = pgcluster.available()
    if why:
        service_missing(f"a throw-away PostgreSQL cluster ({why})")
    with pgcluster.ThrowawayPostgres() as pg:
        yield pg


def crawl(
    web: FixtureWeb,
    database_url: str,
    spill_dir: Path,
    log: Path,
    urls: list[str] | None,
    *args: str,
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **web.proxy_env(), "SCRAPY_PROJECT": "test", "DATABASE_URL": database_url}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "scrapy", "crawl", "kiwify", *args]
    if urls is not None:
        urls_file = log.with_suffix(".urls")
        urls_file.write_text("\n".join(urls), "utf-8")
        command += ["-a", f"urls_file={urls_file}"]
    for setting in (
        f"PERSIST_SPILL_DIR={spill_dir}",
        "PERSIST_BATCH_SIZE=3",
        "PERSIST_RETRY_TIMES=1",
        "PERSIST_RETRY_BACKOFF=0.2",
        "REPLAY_INTERVAL=1",
        "CONCURRENT_REQUESTS=2",  # slow enough for the outage to land mid-crawl
        "LOG_LEVEL=INFO",
    ):
        command += ["-s", setting]
    with log.open("wb") as err:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)


def lead_names(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return Counter(conn.scalars(text("SELECT display_name FROM leads")))
    except SQLAlchemyError:
        return Counter()
    finally:
        engine.dispose()


def wait_for_leads(database_url: str, at_least: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if sum(lead_names(database_url).values()) >= at_least:
            return
        assert process.poll() is None, "the crawl ended before the outage"
        time.sleep(0.1)
    raise AssertionError("no leads stored in 120 s")


def stat(log: str, key: str) -> int:
    for line in log.splitlines():
        if f"'{key}':" in line:
            return int(line.rsplit(":", 1)[1].strip(" ,}"))
    return 0


def urls_of(producers: list[Producer]) -> list[str]:
    return [p.checkout_url for p in producers] + [p.sales_link for p in producers]


def assert_every_lead_once(database_url: str, producers: list[Producer]) -> None:
    names = lead_names(database_url)
    assert set(names) == {p.name for p in producers}
    assert [name for name, n in names.items() if n > 1] == []


def test_outage_mid_crawl_every_lead_stored_once_parked_leads_replayed_in_the_run(
    tmp_path: Path, cluster: pgcluster.ThrowawayPostgres
) -> None:
    producers = write_producers(tmp_path / "web", PRODUCERS)
    spill = tmp_path / "unsaved"
    log = tmp_path / "crawl.log"
    with FixtureWeb(tmp_path / "web") as web:
        process = crawl(web, cluster.url, spill, log, urls_of(producers))
        wait_for_leads(cluster.url, 6, process)
        cluster.stop()  # an immediate shutdown: every connection drops
        time.sleep(6)
        assert process.poll() is None, "the crawl ended during the outage"
        cluster.start()
        process.wait(timeout=300)
    text_log = log.read_text("utf-8", "replace")
    assert process.returncode == 0, text_log[-3000:]

    assert_every_lead_once(cluster.url, producers)
    # The outage really hit both the dedupe lookup and the writes, and what was parked
    # went back in during the same run.
    assert stat(text_log, "leadcrawler/dedupe/base_unavailable") > 0
    spilled = stat(text_log, "leadcrawler/persist/spilled")
    assert spilled > 0
    assert stat(text_log, "leadcrawler/replay/replayed") == spilled
    assert list(spill.glob("*")) == []


@pytest.mark.parametrize("how", ["leadcrawler replay", "next crawl"])
def test_base_away_until_the_crawl_ends_parked_leads_go_back_later(
    tmp_path: Path, cluster: pgcluster.ThrowawayPostgres, how: str
) -> None:
    producers = write_producers(tmp_path / "web", PRODUCERS + 1)
    first, last = producers[:-1], producers[-1]
    spill = tmp_path / "unsaved"
    with FixtureWeb(tmp_path / "web") as web:
        process = crawl(web, cluster.url, spill, tmp_path / "crawl.log", urls_of(first))
        wait_for_leads(cluster.url, 6, process)
        cluster.stop()
        process.wait(timeout=300)
        crawl_log = (tmp_path / "crawl.log").read_text("utf-8", "replace")
        assert process.returncode == 0, crawl_log[-3000:]
        assert list(spill.glob("unsaved-*.jsonl")), "nothing was parked"

        if how == "leadcrawler replay":
            # Still away: a clear error, and the parked leads stay.
            away = replay(cluster.url, spill)
            assert away.returncode == 1
            assert "the base is not reachable" in away.stderr
            assert "Traceback" not in away.stderr
            assert list(spill.glob("unsaved-*.jsonl"))
            cluster.start()
            done = replay(cluster.url, spill)
            assert done.returncode == 0, done.stderr
            assert "Replayed" in done.stdout
            assert_every_lead_once(cluster.url, first)
        else:
            cluster.start()
            process = crawl(web, cluster.url, spill, tmp_path / "next.log", urls_of([last]))
            process.wait(timeout=300)
            next_log = (tmp_path / "next.log").read_text("utf-8", "replace")
            assert process.returncode == 0, next_log[-3000:]
            assert stat(next_log, "leadcrawler/replay/replayed") > 0
            assert_every_lead_once(cluster.url, producers)
    assert list(spill.glob("*")) == []


def replay(database_url: str, spill: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SCRAPY_PROJECT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", "replay", "--spill-dir", str(spill)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kill_9_then_the_same_command_frontier_and_base_as_if_never_stopped(
    tmp_path: Path, pg_url: str
) -> None:
    producers = write_producers(tmp_path / "web", PRODUCERS)
    store = open_store(pg_url)
    FrontierStore(store.engine).add(
        [
            DiscoveredUrl(platform="kiwify", url=u, discovered_by="wayback")
            for u in urls_of(producers)
        ]
    )
    same_command = ("-a", "limit=500", "-s", f"JOBDIR={tmp_path / 'job'}")
    spill = tmp_path / "unsaved"
    with FixtureWeb(tmp_path / "web") as web:
        process = crawl(web, pg_url, spill, tmp_path / "first.log", None, *same_command)
        wait_for_leads(pg_url, 6, process)
        process.kill()  # SIGKILL: no shutdown, nothing flushed, nothing reported
        process.wait(timeout=30)
        with store.sessions() as session:
            assert session.scalar(select(func.count()).where(FrontierUrl.status == "pending")) > 0
        again = crawl(web, pg_url, spill, tmp_path / "again.log", None, *same_command)
        again.wait(timeout=300)
    log = (tmp_path / "again.log").read_text("utf-8", "replace")
    assert again.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert stat(log, "kiwify/frontier/reclaimed") > 0
    # The frontier: every URL done (none left claimed-and-forgotten for FRONTIER_CLAIM_TTL).
    assert FrontierStore(store.engine).counts("kiwify") == {"done": 2 * PRODUCERS}
    # The base: every producer once, with its checkout and its site's contact.
    assert_every_lead_once(pg_url, producers)
    rows = {row["name"]: row for row in store.iter_leads()}
    store.engine.dispose()
    for p in producers:
        assert p.email in {c["value"] for c in rows[p.name]["contacts"]}, p.name
        assert p.checkout_url in {o["checkout_url"] for o in rows[p.name]["offers"]}


BAD_SITES = {
    # sales link id -> (where it redirects, the host's _routes.json)
    "s900001": ("https://www.servidormorto.com.br/", {"*": {"close": True}}),
    "s900002": (
        "https://www.muitoocupado.com.br/",
        {"*": {"status": 429, "headers": {"Retry-After": "1"}}},
    ),
    "s900003": ("https://www.gotejando.com.br/", {"/": {"trickle": 1, "body": "<html>" * 40}}),
    "s900004": (
        "https://www.bomba.com.br/",
        {
            "/": {
                "file": "bomb.gz",
                "headers": {"Content-Encoding": "gzip", "Content-Type": "text/html"},
            }
        },
    ),
    "s900005": ("http://127.0.0.1:9/admin", None),  # into the crawler's own network
}


def test_sources_misbehaving_together_bounded_time_every_healthy_lead(
    tmp_path: Path, sqlite_url: str
) -> None:
    web_root = tmp_path / "web"
    producers = write_producers(web_root, 20)
    routes_file = web_root / "kiwify.app" / "_routes.json"
    routes = json.loads(routes_file.read_text("utf-8"))
    bad_links = []
    for link, (target, host_routes) in BAD_SITES.items():
        routes[f"/{link}"] = {"status": 301, "headers": {"Location": target}}
        bad_links.append(f"https://kiwify.app/{link}")
        if host_routes is not None:
            host_dir = web_root / target.split("/")[2]
            host_dir.mkdir()
            (host_dir / "_routes.json").write_text(json.dumps(host_routes), "utf-8")
            if host_dir.name == "www.bomba.com.br":
                shutil.copy(FIXTURES / "resilience" / "bomb.example" / "bomb.gz", host_dir)
    routes_file.write_text(json.dumps(routes), "utf-8")
    urls = bad_links + urls_of(producers)
    started = time.monotonic()
    with FixtureWeb(web_root) as web:
        process = crawl(
            web,
            sqlite_url,
            tmp_path / "unsaved",
            tmp_path / "crawl.log",
            urls,
            "-s",
            "DOWNLOAD_TIMEOUT=4",
            "-s",
            "CONCURRENT_REQUESTS=16",
        )
        process.wait(timeout=240)
    elapsed = time.monotonic() - started
    log = (tmp_path / "crawl.log").read_text("utf-8", "replace")
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    # Bounded: the trickle is cut by DOWNLOAD_TIMEOUT (4 s x 2 attempts), 429s by the retry
    # limit, the dead host by its errors; nothing waits for the slowest source's pace.
    assert elapsed < 150, elapsed
    assert stat(log, "leadcrawler/ssrf/blocked/loopback") == 1  # the private redirect
    assert stat(log, "kiwify/page/error/DownloadTimeoutError") == 1  # the trickle
    assert stat(log, "kiwify/page/error/IgnoreRequest") == 1  # the bomb, over DOWNLOAD_MAXSIZE
    assert stat(log, "leadcrawler/retry_after/header/seconds") >= 1  # the 429's Retry-After
    # Every healthy producer is there, with the contact their own site shows.
    store = open_store(sqlite_url)
    rows = {row["name"]: row for row in store.iter_leads()}
    store.engine.dispose()
    for p in producers:
        assert p.email in {c["value"] for c in rows[p.name]["contacts"]}, p.name
