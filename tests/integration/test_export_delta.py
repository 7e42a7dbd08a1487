"""`leadcrawler export --platform/--source/--changed-since LAST` and the terminal progress bar."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from leadcrawler.cli import main
from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import lead


def save(database_url: str, *leads) -> None:  # type: ignore[no-untyped-def]
    store = open_store(database_url)
    for item in leads:
        item.identity_keys = keys_for_lead(item)
    store.save(list(leads), None, Rules.from_file(QUALIFY_RULES_FILE))
    store.engine.dispose()


def exported(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig")
    return [r["name"] for r in csv.DictReader(io.StringIO(text, newline=""), delimiter=";")]


@pytest.fixture
def base(sqlite_url: str) -> str:
    save(
        sqlite_url,
        lead("Kiwi Ana", checkout="https://pay.kiwify.com.br/KiW0001", platform="kiwify"),
        lead("Hot Beto", checkout="https://pay.hotmart.com/A12345678B", platform="hotmart"),
    )
    return sqlite_url


def test_platform_and_source_filters(base: str, tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    assert main(["export", "-o", str(out), "--database-url", base, "--platform", "kiwify"]) == 0
    assert exported(out) == ["Kiwi Ana"]
    assert main(["export", "-o", str(out), "--database-url", base, "--source", "hotmart"]) == 0
    assert exported(out) == ["Hot Beto"]
    assert main(["export", "-o", str(out), "--database-url", base, "--platform", "eduzz"]) == 0
    assert exported(out) == []


def test_changed_since_last_gives_deltas_per_destination(base: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out, other = tmp_path / "delta.csv", tmp_path / "other.csv"
    args = ["--database-url", base, "--changed-since", "LAST"]
    assert main(["export", "-o", str(out), *args]) == 0
    assert sorted(exported(out)) == ["Hot Beto", "Kiwi Ana"]  # first export: everything
    assert main(["export", "-o", str(out), *args]) == 0
    assert exported(out) == []  # nothing new since
    save(base, lead("Nova Cida", checkout="https://pay.kiwify.com.br/NoV0001"))
    assert main(["export", "-o", str(out), *args]) == 0
    assert exported(out) == ["Nova Cida"]
    assert "new or updated since" in capsys.readouterr().out
    # Another destination keeps its own record: its first export is complete.
    assert main(["export", "-o", str(other), *args]) == 0
    assert len(exported(other)) == 3


def test_changed_since_last_needs_a_file(base: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["export", "-o", "-", "--database-url", base, "--changed-since", "LAST"]) == 2
    assert "needs a file" in capsys.readouterr().err


def test_progress_bar_only_on_a_terminal(base: str, tmp_path: Path) -> None:
    command = [str(Path(sys.executable).parent / "leadcrawler"), "export", "--database-url", base]
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    piped = subprocess.run(
        [*command, "-o", str(tmp_path / "a.csv")], capture_output=True, text=True, env=env
    )
    assert piped.returncode == 0 and "Exporting leads" not in piped.stderr + piped.stdout
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [*command, "-o", str(tmp_path / "b.csv")], stdout=subprocess.PIPE, stderr=follower, env=env
    ) as process:
        os.close(follower)
        process.wait(timeout=60)
        seen = b""
        try:
            while chunk := os.read(leader, 65536):
                seen += chunk
        except OSError:
            pass
    os.close(leader)
    assert process.returncode == 0
    assert b"Exporting leads" in seen
