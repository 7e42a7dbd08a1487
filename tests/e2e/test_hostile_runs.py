"""What the runs table keeps about a crawl (issue 14, item 9 and finish_reason)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fixtureweb import FixtureWeb
from leadcrawler.storage.models import Run
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "web") as web:
        yield web


@pytest.fixture(scope="module")
def hostile_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "hostile") as web:
        yield web


def runs(database_url: str) -> list[Run]:
    store = open_store(database_url)
    with store.sessions() as session:
        found = list(session.scalars(select(Run)))
    store.engine.dispose()
    return found


def test_url_arguments_are_stored_without_query_or_credentials(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    urls = (
        "https://pay.kiwify.com.br/Fn8kQ2z?email=comprador@gmail.com&cpf=12345678909"
        ",https://user:password@pay.kiwify.com.br/7rTbW3x#x"
    )
    result = run_crawl("kiwify", sqlite_url, f"urls={urls}")
    assert result.returncode == 0, result.log[-3000:]
    [run] = runs(sqlite_url)
    assert run.arguments["urls"] == (
        "https://pay.kiwify.com.br/Fn8kQ2z,https://pay.kiwify.com.br/7rTbW3x"
    )
    stored = repr(run.arguments)
    for secret in ("comprador", "12345678909", "password", "user@"):
        assert secret not in stored


def test_an_interrupted_crawl_is_recorded_as_shutdown(
    hostile_web: FixtureWeb, sqlite_url: str
) -> None:
    env = {
        **os.environ,
        **hostile_web.proxy_env(),
        "SCRAPY_PROJECT": "test",
        "DATABASE_URL": sqlite_url,
    }
    crawl = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "kiwify", "-a",
         "urls=https://pay.kiwify.com.br/Sl0wPag"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while ("GET", "pay.kiwify.com.br", "/Sl0wPag") not in hostile_web.requests:
            assert time.monotonic() < deadline, "the crawl never asked for the page"
            time.sleep(0.1)
        crawl.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = crawl.communicate(timeout=60)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.communicate()
    assert "Traceback" not in err, err[-3000:]
    [run] = runs(sqlite_url)
    assert run.finish_reason == "shutdown"
    assert run.finished_at is not None
