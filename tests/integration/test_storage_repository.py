"""The historical base: idempotent upserts, merges, history, priority order (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.models import ContactRow, LeadRow, OfferRow, SightingRow
from leadcrawler.storage.repository import LeadStore
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import T0, contact, lead


@pytest.fixture
def store(database_url: str) -> LeadStore:
    opened = open_store(database_url)
    yield opened
    opened.engine.dispose()


@pytest.fixture
def rules() -> Rules:
    return Rules.from_file(QUALIFY_RULES_FILE)


def keyed(item):  # type: ignore[no-untyped-def]
    item.identity_keys = keys_for_lead(item)
    return item


def count(store: LeadStore, table: type) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    first = open_store(database_url)
    second = open_store(database_url)  # a second run migrates nothing and does not fail
    tables = set(inspect(second.engine).get_table_names())
    assert {
        "leads",
        "lead_keys",
        "contacts",
        "offers",
        "sightings",
        "runs",
        "alembic_version",
    } <= tables
    first.engine.dispose()
    second.engine.dispose()


def test_saving_the_same_sighting_twice_stores_one_lead(store: LeadStore, rules: Rules) -> None:
    item = keyed(lead(contacts=[contact(ContactKind.EMAIL, "ana@cursos.com.br")]))
    assert store.save([item], None, rules).created == 1
    again = keyed(
        lead(
            contacts=[contact(ContactKind.EMAIL, "ana@cursos.com.br")],
            seen_at=T0 + timedelta(days=2),
        )
    )
    result = store.save([again], None, rules)
    assert (result.created, result.updated) == (0, 1)
    assert count(store, LeadRow) == 1
    assert count(store, ContactRow) == 1
    assert count(store, OfferRow) == 1
    [row] = list(store.iter_leads())
    assert row["times_seen"] == 2
    assert row["first_seen"] == T0
    assert row["last_seen"] == T0 + timedelta(days=2)
    [email] = row["contacts"]
    assert email["first_seen"] == T0 and email["source_url"] == "https://pay.kiwify.com.br/AbC1234"


def test_a_sighting_linking_two_stored_leads_merges_them(store: LeadStore, rules: Rules) -> None:
    by_email = keyed(
        lead(
            "Ana",
            checkout="https://pay.kiwify.com.br/AAAAAAA",
            contacts=[contact(ContactKind.EMAIL, "ana@cursos.com.br")],
        )
    )
    by_phone = keyed(
        lead(
            "Ana S.",
            checkout="https://pay.hotmart.com/A12345678B",
            platform="hotmart",
            contacts=[contact(ContactKind.PHONE, "+5511987654321")],
        )
    )
    store.save([by_email], None, rules)
    store.save([by_phone], None, rules)
    assert count(store, LeadRow) == 2
    both = keyed(
        lead(
            "Ana Souza",
            checkout=None,
            contacts=[
                contact(ContactKind.EMAIL, "ana@cursos.com.br"),
                contact(ContactKind.PHONE, "+5511987654321"),
            ],
        )
    )
    result = store.save([both], None, rules)
    assert result.merged == 1
    [row] = list(store.iter_leads())
    assert row["name"] == "Ana"  # the stored name is kept; later sightings only fill gaps
    assert {c["value"] for c in row["contacts"]} == {"ana@cursos.com.br", "+5511987654321"}
    assert {o["platform"] for o in row["offers"]} == {"kiwify", "hotmart"}
    assert count(store, SightingRow) == 3
    assert row["score_reasons"]["extra_platforms"] > 0  # re-scored on the merged lead


def test_unrelated_producers_stay_apart(store: LeadStore, rules: Rules) -> None:
    store.save(
        [
            keyed(lead("Ana", checkout="https://pay.kiwify.com.br/AAAAAAA")),
            keyed(lead("Ana", checkout="https://pay.kiwify.com.br/BBBBBBB")),
        ],
        None,
        rules,
    )
    assert count(store, LeadRow) == 2  # the same name alone never links two producers


def test_leads_come_out_in_priority_order(store: LeadStore, rules: Rules) -> None:
    weak = keyed(lead("Weak", checkout="https://pay.kiwify.com.br/WWWWWWW"))
    strong = keyed(
        lead(
            "Strong",
            checkout="https://pay.kiwify.com.br/SSSSSSS",
            contacts=[
                contact(ContactKind.EMAIL, "oi@strong.com.br"),
                contact(ContactKind.WHATSAPP, "+5511912345678"),
            ],
        )
    )
    strong.domain = "strong.com.br"
    store.save([weak, strong], None, rules)
    names = [row["name"] for row in store.iter_leads(batch_size=1)]
    assert names == ["Strong", "Weak"]


def test_hostile_names_are_stored_verbatim(store: LeadStore, rules: Rules) -> None:
    hostile = [
        "Robert'); DROP TABLE leads;--",
        "O'Brien",
        "' OR '1'='1",
        "Ana ’ Maria",
        "x" * 100_000,
    ]
    items = [
        keyed(lead(name, checkout=f"https://pay.kiwify.com.br/H{i:06d}"))
        for i, name in enumerate(hostile)
    ]
    store.save(items, None, rules)
    assert sorted(row["name"] for row in store.iter_leads()) == sorted(hostile)


def test_runs_are_recorded(store: LeadStore) -> None:
    run_id = store.start_run("kiwify", {"urls": "https://pay.kiwify.com.br/AbC1234"})
    store.finish_run(run_id, "finished", {"item_scraped_count": 3})
    from leadcrawler.storage.models import Run

    with store.sessions() as session:
        run = session.get_one(Run, run_id)
        assert run.finish_reason == "finished"
        assert run.counts == {"item_scraped_count": 3}
        assert run.arguments["urls"].startswith("https://")
        assert run.finished_at is not None


def test_rescore_all_applies_new_weights(store: LeadStore, rules: Rules) -> None:
    store.save(
        [keyed(lead(contacts=[contact(ContactKind.EMAIL, "ana@cursos.com.br")]))], None, rules
    )
    [before] = list(store.iter_leads())
    generous = Rules.from_dict(
        {
            "weights": {**rules.weights, "business_email": 60},
            "penalties": rules.penalties,
            "prices": {"mid": str(rules.price_mid), "high": str(rules.price_high)},
            "recency": {"recent_days": rules.recent_days},
            "tiers": {"A": rules.tier_a, "B": rules.tier_b},
        }
    )
    assert store.rescore_all(generous) == 1
    [after] = list(store.iter_leads())
    assert after["score_reasons"]["business_email"] == 60
    assert after["score"] > before["score"]
    assert after["tier"] == "A"
