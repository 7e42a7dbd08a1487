"""Switching a new SQLite file to WAL waits out another process's switch instead of failing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from leadcrawler.storage import db


class BusyThenReal:
    """A real cursor on a real file, answering ``database is locked`` the first ``busy``
    times the journal mode is switched, as SQLite does while another process switches it."""

    def __init__(self, path: Path, busy: int) -> None:
        self.cursor = sqlite3.connect(path, isolation_level=None).cursor()
        self.busy = busy
        self.tries = 0

    def execute(self, sql: str) -> Any:
        if sql.startswith("PRAGMA journal_mode"):
            self.tries += 1
            if self.tries <= self.busy:
                raise sqlite3.OperationalError("database is locked")
        return self.cursor.execute(sql)


def test_the_switch_is_tried_again_until_the_lock_is_free(tmp_path: Path) -> None:
    cursor = BusyThenReal(tmp_path / "leads.sqlite3", busy=3)
    waits: list[float] = []
    db.enable_wal(cursor, sleep=waits.append)
    assert cursor.tries == 4 and len(waits) == 3
    mode = cursor.cursor.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_lock_that_never_frees_still_fails_in_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "WAL_SWITCH_SECONDS", 0.0)
    cursor = BusyThenReal(tmp_path / "leads.sqlite3", busy=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.enable_wal(cursor, sleep=lambda _seconds: None)


def test_other_errors_are_not_waited_for(tmp_path: Path) -> None:
    class Broken(BusyThenReal):
        def execute(self, sql: str) -> Any:
            raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk"):
        db.enable_wal(Broken(tmp_path / "x.sqlite3", busy=0), sleep=pytest.fail)
