"""The `leadcrawler` command as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from leadcrawler.cli import main
from leadcrawler.storage.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_demo_prints_the_leads_and_a_second_run_adds_none(tmp_path: Path) -> None:
    # Run outside the checkout, as an installed package would be.
    first = cli("demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "3 new lead(s) stored in sqlite:///data/demo.sqlite3" in first.stdout
    assert "3 lead(s) in the base" in first.stdout
    for name in ("Horta Urbana Viva", "Clínica Pet Amigo Ltda", "Prof. Rafael Nogueira"):
        assert name in first.stdout
    # The sales link led to the producer's site: her contacts, CNPJ and a tier A score.
    horta = next(line for line in first.stdout.splitlines() if "Horta Urbana Viva" in line)
    assert horta.startswith("A ")
    assert "email: bruna@hortaurbanaviva.com.br" in horta
    assert "pixelverdeweb" not in first.stdout  # the web agency's address is not hers
    assert (tmp_path / "data" / "demo.sqlite3").is_file()
    second = cli("demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "0 new lead(s)" in second.stdout
    assert "3 lead(s) in the base" in second.stdout


def test_leads_migrate_and_rescore(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'base.sqlite3'}"
    assert main(["migrate", "--database-url", url]) == 0
    assert "Schema is up to date" in capsys.readouterr().out
    assert main(["leads", "--database-url", url]) == 0
    assert "0 lead(s) in the base" in capsys.readouterr().out
    assert main(["rescore", "--database-url", url]) == 0
    assert "Re-scored 0 lead(s)" in capsys.readouterr().out
    broken = tmp_path / "rules.toml"
    broken.write_text("[tiers]\nA = 10\nB = 20\n")
    assert main(["rescore", "--database-url", url, "--rules", str(broken)]) == 2
    assert "missing rule" in capsys.readouterr().err
    open_store(url).engine.dispose()
