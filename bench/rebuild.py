"""Write path and `dedupe --rebuild` on a fresh PostgreSQL database, timed by hand.

Writes N synthetic leads (2 contacts and an offer each) through ``LeadStore.save`` in batches
of 500, writes them again (a second sighting each), then runs ``rebuild_links`` over the
base. Results go in bench/README.md with the date and the machine's load.

    .venv/bin/python bench/rebuild.py --leads 3000
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import (
    ContactKind,
    ContactPoint,
    ContactStatus,
    Lead,
    Offer,
    Sighting,
)
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.store import open_store

RULES = Path(__file__).resolve().parent.parent / "settings" / "qualification.toml"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def synthetic(i: int, when: datetime) -> Lead:
    url = f"https://pay.kiwify.com.br/B{i:08d}"

    def point(kind: ContactKind, value: str) -> ContactPoint:
        return ContactPoint(
            kind=kind,
            value=value,
            normalized=value,
            status=ContactStatus.VALID,
            source_url=url,
            found_at=when,
            method="bench",
        )

    item = Lead(
        sighting=Sighting("kiwify", url, "bench", when),
        display_name=f"Produtor {i}",
        contacts=[
            point(ContactKind.EMAIL, f"p{i}@prod{i}.com.br"),
            point(ContactKind.PHONE, f"+55119{i:08d}"),
        ],
        offers=[Offer("kiwify", url, f"Curso {i}", Decimal("97.00"))],
        legal_basis="legitimate_interest",
        purpose="benchmark",
        lia_reference="bench",
    )
    item.identity_keys = keys_for_lead(item)
    return item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    name = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        store = open_store(f"{args.server}/{name}")
        rules = Rules.from_file(RULES)
        for label, when in (("new", T0), ("again", T0 + timedelta(days=1))):
            items = [synthetic(i, when) for i in range(args.leads)]
            start = time.perf_counter()
            for first in range(0, len(items), 500):
                store.save(items[first : first + 500], None, rules)
            took = time.perf_counter() - start
            print(f"write {label}: {args.leads / took:.0f} leads/s ({took:.1f} s)")
        start = time.perf_counter()
        result = store.rebuild_links(rules)
        print(f"rebuild: {time.perf_counter() - start:.1f} s ({result})")
        store.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
