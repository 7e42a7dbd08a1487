"""The ``leadcrawler`` command in careless hands (issue 14, item 5 and "Clear errors").

Each case runs the command as a user would: one line naming the problem, a non-zero exit,
no traceback; special files are written as streams and never replaced; exports keep the
target's mode and new ones are private.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.storage.store import open_store
from tests.support.factories import lead

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, shell: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command: list[str] | str = [sys.executable, "-m", "leadcrawler.cli", *args]
    if shell is not None:
        command = f"{sys.executable} -m leadcrawler.cli {shell}"
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        shell=shell is not None,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, (done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]


@pytest.fixture
def base(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'base.sqlite3'}"
    store = open_store(url)
    items = [
        lead(f"Produtor {i}", checkout=f"https://pay.kiwify.com.br/Ex{i:05d}") for i in range(3)
    ]
    for item in items:
        item.identity_keys = keys_for_lead(item)
    store.save(items, None, None)
    store.engine.dispose()
    return url


def test_export_writes_special_files_as_streams_and_never_replaces_them(
    base: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = cli("export", "-o", str(fifo), "--database-url", base, cwd=tmp_path)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert b"Produtor 2" in received[0]

    done = cli("export", "-o", "/dev/null", "--database-url", base, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

    full = cli("export", "-o", "/dev/full", "--database-url", base, cwd=tmp_path)
    assert "cannot write to /dev/full: No space left on device" in one_error_line(full)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)

    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    done = cli("export", "-o", str(link), "--database-url", base, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and "Produtor 0" in real.read_text("utf-8-sig")


def test_export_keeps_the_mode_of_a_file_and_makes_new_ones_private(
    base: str, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n")
    kept.chmod(0o640)
    assert cli("export", "-o", str(kept), "--database-url", base, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert "Produtor 1" in kept.read_text("utf-8-sig")
    new = tmp_path / "new.jsonl"
    done = cli("export", "-o", str(new), "--format", "jsonl", "--database-url", base, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.partial"))


def test_wrong_cli_input_is_one_line(base: str, tmp_path: Path) -> None:
    not_a_base = tmp_path / "notes.sqlite3"
    not_a_base.write_text("my notes\n")
    binary = tmp_path / "rules.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    cases = [
        (["export", "-o", str(tmp_path)], "is a directory"),
        (["export", "-o", "/nonexistent/x.csv"], "folder /nonexistent does not exist"),
        (["export", "-o", "x.csv", "--min-score", "100000000000000000000"], "scores are 0 to 100"),
        (["leads", "--limit", "-1"], "expected 0 to 10000000"),
        (["rescore", "--rules", str(binary)], "is not UTF-8 text"),
        (["rescore", "--rules", str(tmp_path)], "is a directory"),
        (["export", "-o", "x.csv", "--database-url", "garbage"], "not a database URL"),
        (["leads", "--database-url", f"sqlite:///{not_a_base}"], "file is not a database"),
        (["export", "-o", "x.csv", "--database-url", "sqlite:///typo.sqlite3"], "no base at"),
        (["leads", "--database-url", "sqlite:///typo.sqlite3"], "no base at"),
    ]
    for args, message in cases:
        if "--database-url" not in args:
            args = [*args, "--database-url", base]
        assert message in one_error_line(cli(*args, cwd=tmp_path)), args
    assert not (tmp_path / "typo.sqlite3").exists()  # nothing created by a typo
    assert not_a_base.read_text() == "my notes\n"


def test_export_to_a_pipe_closed_early_is_not_a_traceback(base: str, tmp_path: Path) -> None:
    store = open_store(base)
    items = [
        lead(f"Muitos {i}", checkout=f"https://pay.kiwify.com.br/Mx{i:05d}") for i in range(3000)
    ]
    for item in items:
        item.identity_keys = keys_for_lead(item)
    store.save(items, None, None)
    store.engine.dispose()
    done = cli(
        cwd=tmp_path,
        shell=f"export -o - --format jsonl --database-url {base} | head -n 1",
    )
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert len(done.stdout.splitlines()) == 1


def test_leads_limit_zero_says_how_many_are_left(base: str, tmp_path: Path) -> None:
    done = cli("leads", "--limit", "0", "--database-url", base, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "... and 3 more" in done.stdout
