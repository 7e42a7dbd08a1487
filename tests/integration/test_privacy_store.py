"""Data-subject rights on the base (SQLite and PostgreSQL): forget, access, suppress, purge,
the legal basis storage demands, and the append-only audit log."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import settings.base as base_settings
from leadcrawler.cli import main
from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, DiscoveredUrl
from leadcrawler.domain.scoring import Rules
from leadcrawler.privacy.config import PEPPER_ENV, PrivacyConfig
from leadcrawler.privacy.gate import LegalBasisMissing
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.models import (
    AuditEntry,
    ContactRow,
    FrontierUrl,
    LeadKey,
    LeadRow,
    OfferRow,
    SightingRow,
    Suppression,
    ValueHistory,
)
from leadcrawler.storage.privacy import PepperMismatch, PrivacyStore, SuppressionFilter
from leadcrawler.storage.repository import LeadStore
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.conftest import ROOT
from tests.support.chain import run_chain
from tests.support.factories import T0, contact, lead
from tests.unit.test_privacy_rules import PEPPER, settings_of

ANA_EMAIL = "ana.doces@anadoces.com.br"
ANA_PHONE = "+5531990001234"


@pytest.fixture(autouse=True)
def pepper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PEPPER_ENV, PEPPER)


@pytest.fixture
def config() -> PrivacyConfig:
    return PrivacyConfig.from_settings(settings_of(base_settings))


@pytest.fixture
def store(database_url: str) -> Iterator[LeadStore]:
    opened = open_store(database_url)
    yield opened
    opened.engine.dispose()


def ana(seen_at=T0):  # type: ignore[no-untyped-def]
    item = lead(
        "Ana Doces",
        checkout="https://pay.kiwify.com.br/AnA1234",
        seller_id="hT5vQm2Lr8WcN1e",
        seen_at=seen_at,
        contacts=[
            contact(ContactKind.EMAIL, ANA_EMAIL),
            contact(ContactKind.PHONE, ANA_PHONE, whatsapp_capable=True),
            contact(ContactKind.SOCIAL, "https://www.instagram.com/anadoces/"),
        ],
    )
    item.website, item.domain = "https://www.anadoces.com.br/", "anadoces.com.br"
    item.identity_keys = keys_for_lead(item)
    return item


def bruno(seen_at=T0):  # type: ignore[no-untyped-def]
    item = lead(
        "Bruno Cursos",
        checkout="https://pay.kiwify.com.br/BrU0001",
        seen_at=seen_at,
        contacts=[contact(ContactKind.EMAIL, "bruno@brunocursos.com.br")],
    )
    item.identity_keys = keys_for_lead(item)
    return item


def rows(store: LeadStore, table: type) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_storage_refuses_a_lead_without_its_legal_basis(store: LeadStore) -> None:
    unstamped = ana()
    unstamped.lia_reference = None
    with pytest.raises(LegalBasisMissing, match="lia_reference"):
        store.save([bruno(), unstamped], None, None)
    assert rows(store, LeadRow) == 0  # the whole batch is refused, nothing half-written
    store.save([bruno()], None, None)
    with store.sessions() as session:
        row = session.scalars(select(LeadRow)).one()
    assert (row.legal_basis, row.lia_reference) == ("legitimate_interest", "LIA-TEST-1")


def test_forget_deletes_every_trace_and_suppresses_every_key(
    store: LeadStore, config: PrivacyConfig, tmp_path: Path
) -> None:
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    store.save([ana(), ana(T0 + timedelta(days=1)), bruno()], None, rules)
    frontier = FrontierStore(store.engine)
    frontier.add(
        [
            DiscoveredUrl("kiwify", "https://kiwify.app/AnA1234", "wayback"),
            DiscoveredUrl("kiwify", "https://pay.kiwify.com.br/AnA1234", "wayback"),
            DiscoveredUrl("kiwify", "https://pay.kiwify.com.br/BrU0001", "wayback"),
        ]
    )
    with store.sessions.begin() as session:
        from leadcrawler.storage.models import Run

        session.add(
            Run(
                spider="kiwify",
                arguments={"urls": "https://pay.kiwify.com.br/AnA1234"},
                started_at=T0,
            )
        )
    privacy = PrivacyStore(store.engine, config)
    spill = tmp_path / "unsaved"
    spill.mkdir()
    (spill / "unsaved-20261101.jsonl").write_text(
        "".join(json.dumps(dataclasses.asdict(x), default=str) + "\n" for x in (ana(), bruno())),
        encoding="utf-8",
    )

    # Another letter case: the same person.
    # (The scrub of the database files is measured in tests/e2e/test_e2e_privacy.py, on a
    # server of its own: here other users of the shared server could make it wait.)
    result = privacy.forget("ANA.Doces@AnaDoces.com.br", spill_dir=spill, scrub=False)

    assert len(result.lead_uids) == 1
    assert result.deleted["spill_lines"] == 1  # the spill file kept only Bruno
    spilled = (spill / "unsaved-20261101.jsonl").read_text("utf-8")
    assert "Bruno Cursos" in spilled and "anadoces" not in spilled.lower()
    for table in (ContactRow, OfferRow, LeadKey, SightingRow, ValueHistory):
        with store.sessions() as session:
            left = session.scalar(
                select(func.count()).select_from(table).where(table.lead_id != None)  # noqa: E711
            )
        assert left == rows(store, table)
    with store.sessions() as session:
        names = list(session.scalars(select(LeadRow.display_name)))
        frontier_urls = list(session.scalars(select(FrontierUrl.url)))
        suppressed = list(session.execute(select(Suppression.key_hash, Suppression.kind)))
        runs = list(session.scalars(select(text("arguments")).select_from(text("runs"))))
        contacts = list(session.scalars(select(ContactRow.value)))
    assert names == ["Bruno Cursos"]
    assert contacts == ["bruno@brunocursos.com.br"]
    assert frontier_urls == ["https://pay.kiwify.com.br/BrU0001"]
    assert "AnA1234" not in json.dumps(runs)
    kinds = {kind for _hash, kind in suppressed}
    assert {"email", "phone", "social", "checkout", "seller", "domain"} <= kinds
    dumped = json.dumps([h for h, _ in suppressed])
    assert "ana" not in dumped.lower() and "5531" not in dumped  # hashes, never clear values

    # Anything that names her again is refused at write, however it is spelled.
    again = ana(T0 + timedelta(days=9))
    again.contacts = [contact(ContactKind.PHONE, ANA_PHONE)]
    again.offers = []
    again.identity_keys = keys_for_lead(again)
    saved = store.save([again, bruno()], None, None, config.pepper)
    assert (saved.suppressed, rows(store, LeadRow)) == (1, 1)

    # Discovery finding her pages again does not put them back in the frontier.
    found = [
        DiscoveredUrl("kiwify", "https://kiwify.app/AnA1234", "wayback"),
        DiscoveredUrl("kiwify", "https://pay.kiwify.com.br/NeW0001", "wayback"),
    ]
    stats = run_chain(store.engine.url.render_as_string(hide_password=False), found)  # type: ignore[arg-type]
    assert stats["leadcrawler/privacy/suppressed_discovery"] == 1
    with store.sessions() as session:
        assert "https://kiwify.app/AnA1234" not in set(session.scalars(select(FrontierUrl.url)))
        assert "https://pay.kiwify.com.br/NeW0001" in set(session.scalars(select(FrontierUrl.url)))

    # Access after forget: suppressed, nothing held.
    after = privacy.access("(31) 99000-1234")
    assert after.report == [] and after.suppressed
    with store.sessions() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        audit = json.dumps(
            [
                (e.lead_uids, e.subject_hashes, e.details)
                for e in session.scalars(select(AuditEntry))
            ]
        )
    assert actions == ["forget", "access"]
    assert "ana" not in audit.lower() and "5531" not in audit


def test_access_returns_every_value_with_its_provenance(
    store: LeadStore, config: PrivacyConfig, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    store.save([ana(), ana(T0 + timedelta(days=3))], None, Rules.from_file(QUALIFY_RULES_FILE))
    assert main(["access", "+55 (31) 9 9000-1234", "--database-url", database_url]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "held"
    [held] = answer["leads"]
    assert held["legal_basis"] == "legitimate_interest" and held["lia_reference"]
    assert held["score"] is not None and held["score_reasons"]
    email = next(c for c in held["contacts"] if c["kind"] == "email")
    assert email["value"] == ANA_EMAIL
    assert email["source_url"] == "https://pay.kiwify.com.br/AbC1234"
    assert email["method"] == "test"
    assert email["first_seen"].startswith("2026-11-01") and email["times_seen"] == 2
    assert held["last_seen"].startswith("2026-11-04")
    assert [s["url"] for s in held["sightings"]] == ["https://pay.kiwify.com.br/AnA1234"] * 2
    assert held["offers"][0]["checkout_url"] == "https://pay.kiwify.com.br/AnA1234"

    assert main(["access", "nobody@nowhere.com.br", "--database-url", database_url]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "nothing held"
    assert main(["access", "???", "--database-url", database_url]) == 2
    assert capsys.readouterr().err.startswith("error: not an e-mail")


def test_suppress_keeps_the_lead_out_of_exports_and_crawls_without_deleting(
    store: LeadStore,
    config: PrivacyConfig,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    failed = ana()
    failed.enrichment = {"site": "failed: http_503"}
    failed.contacts[0].details["mx_status"] = "dns-timeout"
    store.save([failed, bruno()], None, None)
    assert [r.website for r in store.site_retries()] == ["https://www.anadoces.com.br/"]
    assert store.emails_needing_mx() != {}
    before = {row["name"]: row for row in store.iter_leads()}
    assert main(["suppress", "https://instagram.com/AnaDoces", "--database-url", database_url]) == 0
    assert "1 stored lead(s) kept" in capsys.readouterr().out
    assert rows(store, LeadRow) == 2  # opposition is not erasure
    # No more site visits or DNS lookups for her, and she is not listed.
    assert store.site_retries() == [] and store.emails_needing_mx() == {}
    assert main(["leads", "--database-url", database_url]) == 0
    listing = capsys.readouterr().out
    assert "1 lead(s)" in listing and "Ana Doces" not in listing
    out = tmp_path / "leads.jsonl"
    assert (
        main(["export", "-o", str(out), "--format", "jsonl", "--database-url", database_url]) == 0
    )
    exported = out.read_text("utf-8")
    assert "Bruno Cursos" in exported and "Ana Doces" not in exported and ANA_EMAIL not in exported
    assert json.loads(exported.splitlines()[0])["legal_basis"] == "legitimate_interest"
    # The hash check export and the API run on each row, whatever the row says.
    check = SuppressionFilter(store.engine, config)
    assert check.allows(ana()) is False and check.allows(before["Ana Doces"]) is False
    assert check.allows(before["Bruno Cursos"]) is True

    # The chain drops a new sighting of hers before enrichment and stores nothing.
    stats = run_chain(database_url, [ana(T0 + timedelta(days=20))])
    assert stats["leadcrawler/privacy/suppressed"] == 1
    with store.sessions() as session:
        last = session.scalar(select(LeadRow.last_seen).where(LeadRow.display_name == "Ana Doces"))
    assert last is not None and last.replace(tzinfo=None) == T0.replace(tzinfo=None)

    with store.sessions() as session:
        export = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert export.details["rows"] == 1 and export.details["filters"]["tier"] == []
    import hashlib

    assert export.details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_purge_deletes_what_retention_no_longer_covers_with_a_frozen_clock(
    store: LeadStore,
    config: PrivacyConfig,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, recent = T0, T0 + timedelta(days=200)
    store.save([ana(old), bruno(recent)], None, None)
    # Other users of the shared server may hold old transactions: don't wait for them here.
    monkeypatch.setattr("leadcrawler.storage.privacy.SCRUB_WAIT", 0.0)
    frozen = T0 + timedelta(days=config.retention_days + 1)  # Ana: 366 days; Bruno: 166
    monkeypatch.setattr("leadcrawler.cli.utcnow", lambda: frozen)

    assert main(["purge", "--dry-run", "--database-url", database_url]) == 0
    assert "Would delete 1 lead(s)" in capsys.readouterr().out
    assert rows(store, LeadRow) == 2
    assert main(["purge", "--database-url", database_url]) == 0
    assert "Deleted 1 lead(s) not seen since 2026-11-02 12:00" in capsys.readouterr().out
    with store.sessions() as session:
        assert list(session.scalars(select(LeadRow.display_name))) == ["Bruno Cursos"]
        assert rows(store, ContactRow) == 1
        purges = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "purge")))
    assert [p.details["dry_run"] for p in purges] == [True, False]
    assert len(purges[1].lead_uids) == 1
    # A re-crawl is not eternal life: only a new sighting moves last_seen.
    monkeypatch.setattr("leadcrawler.cli.utcnow", lambda: recent + timedelta(days=366))
    assert main(["purge", "--database-url", database_url]) == 0
    assert rows(store, LeadRow) == 0


def test_the_audit_log_is_append_only(store: LeadStore, config: PrivacyConfig) -> None:
    PrivacyStore(store.engine, config).suppress("x@y.com.br")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert rows(store, AuditEntry) == 1


def test_subject_commands_and_crawls_refuse_production_without_the_pepper(
    database_url: str,
) -> None:
    env = {**os.environ, "SCRAPY_PROJECT": "production", "LEADCRAWLER_LIA_REFERENCE": "LIA-1"}
    env.pop(PEPPER_ENV)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    cli = [sys.executable, "-m", "leadcrawler.cli", "forget", "a@b.com.br"]
    done = subprocess.run(
        [*cli, "--database-url", database_url], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and PEPPER_ENV in done.stderr
    crawl = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "kiwify",
            "-a",
            "urls=https://kiwify.app/AbC1234",
        ],
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    assert crawl.returncode != 0 and PEPPER_ENV in crawl.stderr
    assert "Crawled (" not in crawl.stderr  # nothing was fetched


def test_migration_marks_leads_stored_before_it_as_unrecorded(database_url: str) -> None:
    from alembic import command

    from leadcrawler.storage.db import alembic_config, make_engine, migrate

    engine = make_engine(database_url)
    with engine.begin() as conn:
        cfg = alembic_config(database_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(
            text(
                "INSERT INTO leads (uid, display_name, score_reasons, first_seen, last_seen, "
                "times_seen, updated_at, enrichment) VALUES ('old-1', 'Antiga', '{}', :t, :t, 1, "
                ":t, '{}')"
            ),
            {"t": T0},
        )
    migrate(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT legal_basis, purpose, lia_reference, suppressed_at FROM leads")
        ).one()
    engine.dispose()
    assert row[0] == "legitimate_interest"
    assert row[1] == row[2] == "unrecorded: stored before migration 0005_privacy"
    assert row[3] is None


def test_a_changed_pepper_is_refused_rather_than_letting_people_back(
    store: LeadStore,
    config: PrivacyConfig,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    PrivacyStore(store.engine, config).forget("ana.doces@anadoces.com.br", scrub=False)
    monkeypatch.setenv(PEPPER_ENV, "another-pepper-entirely-0123")
    for command in (["access", "ana.doces@anadoces.com.br"], ["export", "-o", "-"]):
        assert main([*command, "--database-url", database_url]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not the pepper" in err
    with pytest.raises(PepperMismatch):  # a crawl does not even start
        run_chain(database_url, [ana()])
    assert rows(store, LeadRow) == 0


def test_the_enricher_service_applies_the_gate_for_imports_and_the_api(
    store: LeadStore, config: PrivacyConfig, database_url: str
) -> None:
    from leadcrawler.enricher.service import enrich_leads

    PrivacyStore(store.engine, config).suppress("(31) 99000-1234")
    raw = ana()
    raw.legal_basis = None  # as an importer hands it over: the gate stamps it
    report = enrich_leads([raw, bruno()], database_url=database_url)
    assert report.rejected == {"suppressed": 1}
    assert report.stats["leadcrawler/privacy/suppressed"] == 1
    with store.sessions() as session:
        row = session.scalars(select(LeadRow)).one()
    assert row.display_name == "Bruno Cursos" and row.legal_basis == "legitimate_interest"


def test_the_access_report_and_the_api_detail_keep_their_shapes(
    store: LeadStore, config: PrivacyConfig
) -> None:
    """Both render one read of the lead with its provenance (storage/readmodel.py): the
    report a person gets is text (ISO times, prices as strings, the value as found), the
    API's detail is typed (datetimes, decimals, certainty, the run of each sighting)."""
    store.save([ana(), ana(T0 + timedelta(days=3))], None, Rules.from_file(QUALIFY_RULES_FILE))
    [report] = PrivacyStore(store.engine, config).access(ANA_EMAIL).report
    assert list(report) == [
        "lead_id", "legal_basis", "purpose", "lia_reference", "display_name", "legal_name",
        "cnpj", "website", "domain", "score", "tier", "score_reasons", "first_seen",
        "last_seen", "times_seen", "retention_until", "contacts", "offers", "sightings",
        "value_history", "enrichment",
    ]  # fmt: skip
    assert list(report["contacts"][0]) == [
        "kind", "value", "as_found", "status", "source_url", "method", "first_seen",
        "last_seen", "times_seen", "details",
    ]  # fmt: skip
    assert list(report["offers"][0]) == [
        "platform", "checkout_url", "product_name", "price_brl", "seller_id", "first_seen",
        "last_seen",
    ]  # fmt: skip
    assert list(report["sightings"][0]) == ["source", "spider", "url", "seen_at"]
    assert list(report["value_history"][0]) == [
        "field", "ref", "value", "first_seen", "last_seen",
    ]  # fmt: skip
    assert report["last_seen"] == (T0 + timedelta(days=3)).isoformat()

    detail = store.lead_detail(report["lead_id"])
    assert detail is not None
    assert list(detail) == [
        "lead_id", "name", "legal_name", "cnpj", "website", "domain", "score", "tier",
        "score_reasons", "first_seen", "last_seen", "times_seen", "enrichment", "contacts",
        "offers", "history", "sightings",
    ]  # fmt: skip
    assert list(detail["contacts"][0]) == [
        "kind", "value", "status", "certainty", "details", "source_url", "method",
        "first_seen", "last_seen", "times_seen",
    ]  # fmt: skip
    assert list(detail["offers"][0]) == [
        "platform", "checkout_url", "product_name", "price_brl", "seller_id", "first_seen",
        "last_seen",
    ]  # fmt: skip
    assert list(detail["history"][0]) == [
        "field", "ref", "value", "first_seen", "last_seen", "times_seen",
    ]  # fmt: skip
    assert list(detail["sightings"][0]) == ["source", "spider", "url", "run_id", "seen_at"]
    assert detail["name"] == "Ana Doces" and detail["times_seen"] == 2
    assert detail["last_seen"] == T0 + timedelta(days=3)  # a datetime, in UTC
    assert [s["seen_at"] for s in detail["sightings"]] == [T0, T0 + timedelta(days=3)]
    assert [c["value"] for c in detail["contacts"]] == [c["value"] for c in report["contacts"]]
    price = detail["offers"][0]["price_brl"]
    assert report["offers"][0]["price_brl"] == (str(price) if price is not None else None)
    assert report["retention_until"] == (T0 + timedelta(days=3 + config.retention_days)).isoformat()
