"""Benchmark: `leadcrawler export` memory stays flat as the base grows.

Fills a fresh base with N synthetic leads (2 contacts and 1 offer each, through the real
write path), then runs `leadcrawler export` as a child process and reports its peak RSS
and wall time. Run by hand; results go in bench/README.md.

    python bench/export_memory.py --leads 10000 40000 [--database-url URL] [--format csv]

Without --database-url each size gets its own SQLite file in a temporary folder. With a
PostgreSQL server URL (no database name), a throw-away database is created per size.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead, Offer, Sighting
from leadcrawler.storage.store import open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic(i: int) -> Lead:
    url = f"https://pay.kiwify.com.br/B{i:06d}"
    seen = T0 + timedelta(minutes=i)

    def point(kind: ContactKind, value: str) -> ContactPoint:
        return ContactPoint(
            kind=kind,
            value=value,
            normalized=value,
            status=ContactStatus.VALID,
            source_url=url,
            found_at=seen,
            method="bench",
        )

    lead = Lead(
        sighting=Sighting("kiwify", url, "bench", seen),
        display_name=f"Produtor Sintético {i}",
        contacts=[
            point(ContactKind.EMAIL, f"produtor{i}@loja{i}.com.br"),
            point(ContactKind.PHONE, f"+55119{i:08d}"),
        ],
        offers=[Offer("kiwify", url, f"Curso {i}", Decimal("97.00"))],
    )
    lead.identity_keys = keys_for_lead(lead)
    return lead


def fill(url: str, count: int) -> float:
    store = open_store(url)
    started = time.monotonic()
    batch = 500
    for start in range(0, count, batch):
        store.save([synthetic(i) for i in range(start, min(count, start + batch))], None, None)
    store.engine.dispose()
    return time.monotonic() - started


def export_child(url: str, out: Path, fmt: str) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", "export", "-o", str(out), "--format", fmt,
         "--database-url", url],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run sizes ascending.
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--database-url", help="PostgreSQL server URL without a database")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for count in sorted(args.leads):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            if args.database_url:
                admin = create_engine(f"{args.database_url}/test", isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                url = f"{args.database_url}/{name}"
            else:
                url = f"sqlite:///{folder}/{name}.sqlite3"
            fill_seconds = fill(url, count)
            out = Path(folder) / f"{name}.{args.format}"
            wall, peak = export_child(url, out, args.format)
            rows = sum(1 for _ in out.open(encoding="utf-8-sig")) - (args.format == "csv")
            print(
                f"{count:>7} leads  fill {fill_seconds:6.1f} s  export {wall:5.1f} s  "
                f"{rows / wall:8.0f} rows/s  peak RSS {peak:6.1f} MiB  ({url.split(':', 1)[0]})"
            )
            if args.database_url:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
