"""The set-based writer's COPY without per-row foreign-key checks stores what it did with them.

On PostgreSQL, with the privilege to set ``session_replication_role``, the writer COPYs child
rows without the per-row RI checks (``BatchWriter._skip_fk_checks``). Here a corpus of
sightings (the same people in many spellings, across batches, merges of stored leads,
checkouts, a run) goes through the whole chain twice, once with the checks and once
without, and every stored row must be the same.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from leadcrawler.storage import batchwrite
from leadcrawler.storage.base import Base
from tests.conftest import PG_SERVER
from tests.integration.test_identity_resolution import sighting
from tests.support.chain import run_chain
from tests.support.factories import T0

TABLES = {
    "leads": "id, display_name, legal_name, cnpj, website, domain, score, tier, score_reasons,"
    " first_seen, last_seen, times_seen, enrichment, legal_basis, purpose, lia_reference",
    "lead_keys": "id, lead_id, key",
    "contacts": "id, lead_id, kind, value, raw, status, certainty, method, source_url, details,"
    " first_seen, last_seen, times_seen",
    "offers": "id, lead_id, platform, checkout_url, product_name, price_brl, seller_id,"
    " first_seen, last_seen",
    "value_history": "id, lead_id, field, ref, value, first_seen, last_seen, times_seen",
    "sightings": "id, lead_id, run_id, source, spider, url, seen_at",
    "sighting_keys": "id, sighting_id, key, display_name, legal_name",
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def corpus() -> list[Any]:
    """People written many ways, some seen again in later batches (merges of stored leads)."""
    leads = []
    for i in range(40):
        at = T0 + timedelta(minutes=i)
        person = i % 13
        name = ["Ana Souza", "ANA SOUZA", "Ana  Souza Doces", None][i % 4]
        emails = (f"Pessoa{person}@Empresa{person % 5}.com.br",) if i % 3 else ()
        phones = (f"(11) 9{person:04d}-{person:04d}", f"+55 11 9{person:04d}{person:04d}")[
            : 1 + i % 2
        ]
        offer = (f"https://pay.kiwify.com.br/P{person}x", f"{90 + i}.00") if i % 5 == 0 else None
        leads.append(
            sighting(
                name and f"{name} {person}",
                ["kiwify", "hotmart", "site"][i % 3],
                f"https://site{person}.com.br/contato?v={i}",
                emails=emails,
                phones=() if i % 7 == 3 else phones,
                whatsapp=(f"+55 11 9{person:04d}-{person:04d}",) if i % 6 == 1 else (),
                socials=(f"https://instagram.com/pessoa{person}",) if i % 4 == 2 else (),
                website=f"https://www.empresa{person % 5}.com.br/" if i % 8 == 4 else None,
                offer=offer,
                seen_at=at,
            )
        )
    # Two people first seen apart, then linked by one sighting carrying both keys.
    leads.append(sighting("Bruno Lima", "site", "https://b.com.br/", emails=("bruno@lima.com.br",)))
    leads.append(
        sighting("Bruno Lima", "hotmart", "https://h.com.br/", phones=("(21) 98888-1111",))
    )
    leads.append(
        sighting(
            "Bruno Lima",
            "site",
            "https://b.com.br/contato",
            emails=("BRUNO@lima.com.br",),
            phones=("+55 21 98888 1111",),
        )
    )
    return leads


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the write path's tables; lead uids (random) as their order of appearance."""
    engine = create_engine(url)
    uids: dict[str, str] = {}

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return UUID.sub(lambda m: uids.setdefault(m.group(0), f"uid{len(uids)}"), value)
        return value

    try:
        with engine.connect() as conn:
            return {
                table: [
                    tuple(plain(v) for v in row)
                    for row in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY id"))
                ]
                for table, columns in TABLES.items()
            }
    finally:
        engine.dispose()


def test_copy_without_fk_checks_stores_the_same_rows(
    pg_url: str, second_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bool] = []
    real = batchwrite._may_skip_fk_checks

    def recorded(session: Any) -> bool:
        asked.append(real(session))
        return asked[-1]

    monkeypatch.setattr(batchwrite, "_may_skip_fk_checks", recorded)
    fast = run_chain(pg_url, corpus(), PERSIST_BATCH_SIZE=7)
    assert asked and all(asked)  # the test server's user may: the fast path did run

    monkeypatch.setattr(batchwrite, "_may_skip_fk_checks", lambda session: False)
    checked = run_chain(second_pg_url, corpus(), PERSIST_BATCH_SIZE=7)

    assert fast["leadcrawler/persist/merged"] == checked["leadcrawler/persist/merged"] > 0
    rows, expected = dump(pg_url), dump(second_pg_url)
    assert all(expected[table] for table in ("leads", "contacts", "offers", "sighting_keys"))
    assert rows == expected


def test_a_sighting_of_a_missing_run_still_fails_its_foreign_key(pg_url: str) -> None:
    base = Base.open(pg_url)
    store = base.leads()
    try:
        with pytest.raises(IntegrityError):
            store.save(corpus()[:3], run_id=12345, rules=None)
        assert store.copy_skips_fk_checks  # the fast path was allowed, and stood aside
        assert store.count_leads() == 0
    finally:
        base.close()


def test_an_operators_own_trigger_still_fires(pg_url: str) -> None:
    """``replica`` would silence every ordinary trigger: a table with one keeps its checks."""
    base = Base.open(pg_url)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE contact_audit (contact_id bigint)"))
            conn.execute(
                text(
                    "CREATE FUNCTION audit_contact() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN INSERT INTO contact_audit VALUES (NEW.id); RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER audit_contact AFTER INSERT ON contacts"
                    " FOR EACH ROW EXECUTE FUNCTION audit_contact()"
                )
            )
        store = base.leads()
        store.save(corpus()[:5], run_id=None, rules=None)
        assert store.copy_skips_fk_checks  # the user may; the table's trigger said no
        assert store.tables_with_own_triggers["contacts"]
        with engine.connect() as conn:
            contacts = conn.scalar(text("SELECT count(*) FROM contacts"))
            audited = conn.scalar(text("SELECT count(*) FROM contact_audit"))
        assert audited == contacts > 0
    finally:
        engine.dispose()
        base.close()


def test_an_ordinary_user_keeps_the_checks_until_granted(pg_url: str) -> None:
    """The database's owner, not a superuser: the checks run; ``GRANT SET ON PARAMETER``
    (what the README tells an operator) lets the writer skip them."""
    role = f"leads_{batchwrite.uuid.uuid4().hex[:8]}"
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'ALTER DATABASE "{name}" OWNER TO "{role}"'))
    user_url = pg_url.replace("://postgres@", f"://{role}@")
    assert user_url != pg_url
    try:
        for granted in (False, True):
            if granted:
                with admin.connect() as conn:
                    conn.execute(
                        text(f'GRANT SET ON PARAMETER session_replication_role TO "{role}"')
                    )
            base = Base.open(user_url)
            try:
                store = base.leads()
                store.save(corpus()[:5], run_id=None, rules=None)
                assert store.copy_skips_fk_checks is granted
                assert store.count_leads() > 0
            finally:
                base.close()
    finally:
        admin.dispose()
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # the role owns the database: it goes first
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'REVOKE SET ON PARAMETER session_replication_role FROM "{role}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
