"""A careless operator: wrong settings, arguments, files and databases (issue 14, items 4 and 6
and "Clear errors, never a traceback").

Each case runs ``scrapy crawl`` as a user would and expects one line naming the problem on
standard error, a non-zero exit and no traceback; nothing is crawled or marked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.domain.items import DiscoveredUrl
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES, ROOT

BINARY = bytes(range(256)) * 16


@pytest.fixture(scope="module")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "hostile") as web:
        yield web


def crawl(
    spider: str, *args: str, database_url: str, web: FixtureWeb | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_PROJECT": "test", "DATABASE_URL": database_url}
    if web is not None:
        env.update(web.proxy_env())
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", spider, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "never retrieved" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    return errors[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(BINARY)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n")
    bad_rules = tmp_path / "rules.toml"
    text = (ROOT / "settings" / "qualification.toml").read_text("utf-8")
    bad_rules.write_text(text.replace("recent_days = ", "recent_days = 1e300 #"))
    return {"binary": str(binary), "empty": str(empty), "rules": str(bad_rules)}


CASES = [
    ("kiwify", ["-a", "limit=abc"], "limit must be a whole number"),
    ("kiwify", ["-a", "limit=-5"], "limit must be between 1 and"),
    ("kiwify", ["-a", "limit=99999999999999999999"], "limit must be between 1 and"),
    ("site", ["-a", "urls=https://x.com.br/", "-a", "limit=-5"], "limit must be between"),
    ("wayback", ["-a", "platform=kiwify", "-a", "limit=-5"], "limit must be between"),
    ("kiwify", ["-a", "urls_file=/nonexistent"], "urls_file '/nonexistent' does not exist"),
    ("kiwify", ["-a", "urls_file={binary}"], "is not UTF-8 text"),
    ("serp", ["-a", "queries_file={binary}"], "is not UTF-8 text"),
    ("kiwify", ["-a", "urls_file=/tmp"], "is not a regular file"),
    ("kiwify", ["-a", "urls="], "urls is empty"),
    ("kiwify", ["-a", "urls_file={empty}"], "holds no URL"),
    ("serp", ["-a", "query=yoga", "-a", "pages=abc"], "pages must be a whole number"),
    ("serp", ["-a", "query=yoga", "-a", "engine=bing"], "unknown engine 'bing'"),
    ("kiwify", ["-s", "PERSIST_BATCH_SIZE=0"], "PERSIST_BATCH_SIZE must be at least 1"),
    ("kiwify", ["-s", "PERSIST_RETRY_TIMES=-1"], "PERSIST_RETRY_TIMES"),
    ("kiwify", ["-s", "QUALIFY_RULES_FILE={binary}"], "is not UTF-8 text"),
    ("kiwify", ["-s", "QUALIFY_RULES_FILE=/tmp"], "is a directory"),
    ("kiwify", ["-s", "QUALIFY_RULES_FILE={rules}"], "recent_days must be 1 to"),
    ("kiwify", ["-s", "DEDUPE_NAME_SIMILARITY=0"], "DEDUPE_NAME_SIMILARITY"),
]


def test_a_wrong_argument_or_setting_is_one_line_and_nothing_is_crawled(
    files: dict[str, str], tmp_path: Path
) -> None:
    # The cases run side by side (each crawl is mostly interpreter start-up).
    def run(index: int) -> tuple[str, str, int, dict[str, int]]:
        spider, args, message = CASES[index]
        url = f"sqlite:///{tmp_path / f'case{index}.sqlite3'}"
        store = open_store(url)
        frontier = FrontierStore(store.engine)
        frontier.add([DiscoveredUrl("kiwify", "https://pay.kiwify.com.br/Fn8kQ2z", "wayback")])
        done = crawl(spider, *[a.format(**files) for a in args], database_url=url)
        line = one_error_line(done)
        counts = frontier.counts("kiwify")
        store.engine.dispose()
        return message, line, done.returncode, counts

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(len(CASES))))
    for (spider, args, _message), (message, line, status, counts) in zip(
        CASES, results, strict=True
    ):
        assert message in line, (spider, args, line)
        assert status == 2, (spider, args)
        # Nothing was claimed or marked: the frontier URL is still pending, untried.
        assert counts == {"pending": 1}, (spider, args)


def test_unusable_databases_are_one_line(tmp_path: Path) -> None:
    not_a_base = tmp_path / "notes.sqlite3"
    not_a_base.write_text("these are my notes, not a database\n")
    readonly = tmp_path / "ro.sqlite3"
    open_store(f"sqlite:///{readonly}").engine.dispose()
    cases = {
        "postgresql+psycopg2://postgres@127.0.0.1:1/test": "Connection refused",
        "postgresql://postgres@127.0.0.1:5432/leadcrawler_no_such_db_14": "does not exist",
        "garbage": "DATABASE_URL is not a database URL",
        f"sqlite:///{not_a_base}": "file is not a database",
        f"sqlite:///file:{readonly}?mode=ro&uri=true": "readonly database",
    }
    for url, message in cases.items():
        done = crawl("kiwify", "-a", "urls=https://pay.kiwify.com.br/Fn8kQ2z", database_url=url)
        assert message in one_error_line(done), url
    assert not_a_base.read_text() == "these are my notes, not a database\n"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_use_the_installed_driver(
    scheme: str, pg_url: str, fixture_web: FixtureWeb
) -> None:
    url = pg_url.replace("postgresql+psycopg2://", f"{scheme}://", 1)
    done = crawl("kiwify", "-a", "urls=https://pay.kiwify.com.br/Rd1Meta", database_url=url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_wayback_stops_when_the_cdx_api_repeats_a_resume_key(
    fixture_web: FixtureWeb, sqlite_url: str
) -> None:
    done = crawl("wayback", "-a", "platform=kiwify", database_url=sqlite_url, web=fixture_web)
    assert done.returncode == 0, done.stderr[-3000:]
    # Each of Kiwify's hosts: the first page, then the same key again -> stop.
    assert "'wayback/repeated_resume_key': 2" in done.stderr
    cdx = [r for r in fixture_web.requests if r[1] == "web.archive.org" and "cdx" in r[2]]
    assert len(cdx) == 4


def test_wayback_limit_counts_every_row_read(fixture_web: FixtureWeb, sqlite_url: str) -> None:
    done = crawl(
        "wayback",
        "-a",
        "platform=kiwify",
        "-a",
        "limit=5",
        database_url=sqlite_url,
        web=fixture_web,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'wayback/rows': 5" in done.stderr
