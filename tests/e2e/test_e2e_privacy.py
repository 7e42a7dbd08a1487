"""End to end, as an operator answers a data subject (SQLite and PostgreSQL): crawl the
fixture web at DEBUG, forget a producer by their e-mail in another letter case, then find
no trace of them in the export or the database files, and re-crawl every page that named
them (checkouts, the kiwify.app sales link, their own site) without bringing them back."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from leadcrawler.storage.models import AuditEntry
from leadcrawler.storage.store import open_store
from tests.conftest import ROOT, service_missing
from tests.e2e.test_e2e_enrichment import stat
from tests.e2e.test_e2e_kiwify import ALL_URLS, leads

SITE = "https://www.anadavilaconfeitaria.com.br/"
# What names Ana D'Ávila anywhere: her e-mail, number, site, checkout ids and store id.
ANA_TRACES = [
    "anadavila",
    "5531990001234",
    "99000-1234",
    "D'Ávila",
    "D&#39;",
    "Lm4Np0q",
    "q2W9eRt",
    "Dv8aVl1",
    "aNa7Vnd",
    "hT5vQm2Lr8WcN1e",
]
EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
PHONE_SHAPE = re.compile(r"\+55[\d ()-]{10,16}\d|\(\d{2}\) ?9? ?\d{4}-\d{4}|wa\.me/\d{10,}")
ANA_URLS = [
    u for u in ALL_URLS if any(i in u for i in ("Lm4Np0q", "q2W9eRt", "Dv8aVl1", "aNa7Vnd"))
]


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_PROJECT": "test", "DATABASE_URL": database_url}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def personal_values(stored: list[dict[str, Any]]) -> set[str]:
    """Every e-mail and phone the base holds, and the spellings a log could show them in."""
    values: set[str] = set()
    for lead in stored:
        for contact in lead["contacts"]:
            value = contact["value"]
            if contact["kind"] == "email" and "@" in value:
                values.add(value.lower())
            elif contact["kind"] in ("phone", "whatsapp") and value.startswith("+"):
                values.add(value[1:])  # the digits, as in wa.me links
                values.add(value[-8:-4] + "-" + value[-4:])  # "9000-1234" as pages write it
    return values


def database_bytes(database_url: str) -> bytes:
    """Every byte of the database's own files."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = create_engine(database_url)
    with engine.connect() as conn:
        data_dir = conn.execute(text("SHOW data_directory")).scalar_one()
        oid = conn.execute(
            text("SELECT oid FROM pg_database WHERE datname = current_database()")
        ).scalar_one()
    engine.dispose()
    folder = Path(data_dir) / "base" / str(oid)
    if not os.access(folder, os.R_OK):
        pytest.skip(f"PostgreSQL's files ({folder}) are not readable by this user")
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture
def own_pg() -> Iterator[str]:
    """A throw-away PostgreSQL server of our own (initdb + pg_ctl, free port).

    The shared server's other users may hold transactions open for minutes, and PostgreSQL
    keeps the deleted rows those could still see; the scrub is measured where only this
    test runs (`forget` waits for such transactions, see PrivacyStore.scrub_files).
    """
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if not initdb or not pg_ctl:
        service_missing("PostgreSQL's initdb/pg_ctl")
    assert initdb and pg_ctl
    home = Path(tempfile.mkdtemp(prefix="lc-pg-", dir="/tmp"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = home / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        subprocess.run(
            [*as_postgres, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            capture_output=True,
        )
        log = str(home / "log")
        subprocess.run(
            [*as_postgres, pg_ctl, "-D", str(data), "-o", options, "-l", log, "-w", "start"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        admin = create_engine(
            f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "leads"'))
        admin.dispose()
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/leads"
    finally:
        subprocess.run(
            [*as_postgres, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def base_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "own_pg"
    return str(request.getfixturevalue(fixture))


def test_forget_leaves_no_trace_and_a_recrawl_brings_nothing_back(
    run_crawl, base_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    database_url = base_url
    first = run_crawl("kiwify", database_url, "urls=" + ",".join(ALL_URLS))
    assert first.returncode == 0, first.log[-3000:]
    assert "DEBUG" in first.log and "Scraped from" in first.log  # the log really is at DEBUG
    stored = leads(database_url)
    ana = next(lead for lead in stored if lead["name"] == "Ana D'Ávila")
    assert any(c["value"] == "contato@anadavilaconfeitaria.com.br" for c in ana["contacts"])

    # No full e-mail or phone in any line of a DEBUG crawl log, Scrapy's own included.
    values = personal_values(stored)
    assert "contato@anadavilaconfeitaria.com.br" in values and "5531990001234" in values
    leaked = sorted(v for v in values if v in first.log.lower())
    assert not leaked, leaked
    # Nor anyone else's (buyer placeholders on the pages, the platforms' own addresses).
    assert not EMAIL_SHAPE.findall(first.log), EMAIL_SHAPE.findall(first.log)[:5]
    assert not PHONE_SHAPE.findall(first.log), PHONE_SHAPE.findall(first.log)[:5]

    forget = cli(database_url, "forget", "CONTATO@AnaDavilaConfeitaria.com.br")
    assert forget.returncode == 0, forget.stderr
    assert forget.stdout.startswith("Forgot 1 lead(s)")
    assert "anadavila" not in (forget.stdout + forget.stderr).lower()

    remaining = leads(database_url)
    assert len(remaining) == len(stored) - 1
    export = tmp_path / "leads.jsonl"
    done = cli(database_url, "export", "-o", str(export), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    exported = export.read_text("utf-8")
    assert exported.count("\n") == len(remaining)
    assert not [t for t in ANA_TRACES if t.lower() in exported.lower()]
    # The bytes are gone from the database files, not just unlinked.
    raw = database_bytes(database_url)
    assert b"Educa" in raw  # the files were read: another producer is there
    assert not [t for t in ANA_TRACES if t.encode("utf-8") in raw]

    # Re-crawl every page that named her: her checkouts, the sales link, her own site.
    again = run_crawl("kiwify", database_url, "urls=" + ",".join(ALL_URLS))
    site = run_crawl("site", database_url, f"urls={SITE}")
    assert again.returncode == 0 and site.returncode == 0, again.log[-2000:] + site.log[-2000:]
    assert stat(again.log, "leadcrawler/privacy/suppressed_before_visit") == len(ANA_URLS)
    assert stat(site.log, "leadcrawler/privacy/suppressed_before_visit") == 1
    for log in (again.log, site.log):
        assert not [t for t in ANA_TRACES if t in log]  # not even requested
    after = leads(database_url)
    assert {lead["lead_id"] for lead in after} == {lead["lead_id"] for lead in remaining}
    assert not [
        t for t in ANA_TRACES if t.encode("utf-8") in json.dumps(after, default=str).encode()
    ]

    access = cli(database_url, "access", "(31) 99000-1234")
    assert access.returncode == 0, access.stderr
    assert json.loads(access.stdout)["status"] == "suppressed, nothing held"

    store = open_store(database_url)
    with store.sessions() as session:
        audit = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    store.engine.dispose()
    assert [a.action for a in audit] == ["forget", "export", "access"]
    assert audit[1].details["rows"] == len(remaining)
    assert not re.search("anadavila|5531990001234", json.dumps([a.details for a in audit]))
