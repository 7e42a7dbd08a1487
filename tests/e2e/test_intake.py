"""`leadcrawler enrich FILE`: a messy list as a sales team has it, end to end."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadcrawler.storage.models import LeadRow, Run, SightingRow
from leadcrawler.storage.store import open_store
from tests.support.lists import messy_list, mobile

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 120


def run_enrich(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_PROJECT": "test"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", "enrich", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("workers", ["1", "3"])  # in this process; in three worker processes
def test_a_messy_list_gives_one_lead_per_person_and_rejects_every_garbage_row(
    pg_url: str, tmp_path: Path, workers: str
) -> None:
    source = tmp_path / "lista compradores.csv"
    garbage, rows = messy_list(source, PEOPLE)

    done = run_enrich(
        str(source),
        "--database-url", pg_url,
        "--skip-sites",
        "-s", "ENRICH_DNS_ENABLED=false",
        "-s", f"INTAKE_WORKERS={workers}",
        "-s", "PERSIST_BATCH_SIZE=16",  # many batches per worker
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{rows} row(s) read" in done.stdout
    assert f"rejected: {len(garbage)}" in done.stdout
    assert f"leads created: {PEOPLE}," in done.stdout  # the workers' counts reach the summary
    assert "columns ignored (not stored): Observações" in done.stdout
    with (tmp_path / "lista compradores.rejects.csv").open(encoding="utf-8") as handle:
        rejected = {int(r["line"]): r["reason"] for r in csv.DictReader(handle)}
    assert set(rejected) == garbage
    assert set(rejected.values()) <= {"nothing_to_reach", "nothing_valid"}

    store = open_store(pg_url)
    leads = list(store.iter_leads())
    with store.sessions() as session:
        run = session.scalars(select(Run)).one()
        sightings = session.scalar(select(func.count()).select_from(SightingRow))
        names = set(session.scalars(select(LeadRow.display_name)))
    store.engine.dispose()
    assert len(leads) == PEOPLE
    assert sightings == rows - len(garbage)
    by_email = {
        c["value"]: lead for lead in leads for c in lead["contacts"] if c["kind"] == "email"
    }
    for n in range(PEOPLE):
        lead = by_email[f"pessoa{n}@empresa{n}.com.br"]
        phones = {c["value"] for c in lead["contacts"] if c["kind"] == "phone"}
        assert phones == {mobile(n)}
        assert all(
            c["source_url"].startswith("import:lista compradores.csv#") for c in lead["contacts"]
        )
    # Accents survive cp1252 (which spelling is stored first depends on which row the chain
    # finishes first: rows go through the stages concurrently, as in a crawl).
    assert "pessoa número 0" in {name.casefold() for name in names}
    assert run.spider == "intake"
    assert run.arguments["file"] == "lista compradores.csv"
    assert run.finish_reason == "finished"


def test_an_unreadable_file_is_one_clear_line(tmp_path: Path, sqlite_url: str) -> None:
    source = tmp_path / "vazia.csv"
    source.write_text("Observações;Origem\nx;y\n", encoding="utf-8")

    done = run_enrich(str(source), "--database-url", sqlite_url)

    assert done.returncode == 2
    assert done.stderr.startswith("error: vazia.csv: no column is a name, e-mail")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "no-such.csv").exists()
    missing = run_enrich(str(tmp_path / "no-such.csv"), "--database-url", sqlite_url)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
