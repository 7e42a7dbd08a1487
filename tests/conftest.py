"""Shared fixtures: the fixture web, databases (SQLite and a throw-away PostgreSQL
database per test) and a helper that runs ``scrapy crawl`` as a user would.

PostgreSQL comes from ``LEADCRAWLER_TEST_PG`` (a server URL without a database, default
``postgresql+psycopg2://postgres@127.0.0.1:5432``). Outside CI a missing server skips the
PostgreSQL tests; with ``CI=true`` it fails them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI") == "true"
PG_SERVER = os.environ.get("LEADCRAWLER_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")


def service_missing(what: str) -> None:
    """Skip locally, fail in CI: CI must never pass by skipping a service test."""
    if IN_CI:
        pytest.fail(f"{what} is not available in CI", pytrace=False)
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "web") as web:
        yield web


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'leads.sqlite3'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    yield from fresh_pg_database()


@pytest.fixture
def second_pg_url() -> Iterator[str]:
    """Another one, for a test that compares two bases."""
    yield from fresh_pg_database()


def fresh_pg_database() -> Iterator[str]:
    admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
    name = f"leadcrawler_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL at {PG_SERVER} ({exc.orig})")
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


@dataclass
class CrawlResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stderr


@pytest.fixture
def run_crawl(fixture_web: FixtureWeb, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``scrapy crawl SPIDER -a ...`` in a subprocess, through the fixture web."""

    def run(spider: str, database_url: str, *args: str, timeout: float = 120) -> CrawlResult:
        env = {
            **os.environ,
            **fixture_web.proxy_env(),
            "SCRAPY_PROJECT": "test",
            "DATABASE_URL": database_url,
        }
        env.pop("SCRAPY_SETTINGS_MODULE", None)
        command = [sys.executable, "-m", "scrapy", "crawl", spider]
        for arg in args:
            command += ["-a", arg] if "=" in arg and not arg.startswith("-") else [arg]
        command += ["-s", f"PERSIST_SPILL_DIR={tmp_path / 'unsaved'}"]
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        return CrawlResult(done.returncode, done.stdout, done.stderr)

    return run
