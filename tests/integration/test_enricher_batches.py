"""The batch paths the importer uses: dedupe asks the base once per batch and gives every
lead the uid the one-by-one path gives it; persist writes full batches in the background
and still loses none."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, Lead
from leadcrawler.domain.scoring import Rules
from leadcrawler.enricher.config import MemoryStats
from leadcrawler.enricher.dedupe import DedupeConfig, Deduper
from leadcrawler.enricher.persist import PersistConfig, Persister
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import contact, lead


def stored_people() -> list[Lead]:
    ana = lead("Ana Souza", contacts=[contact(ContactKind.EMAIL, "ana@anasouza.com.br")])
    ana.website = "https://anasouza.com.br/"
    ana.domain = "anasouza.com.br"
    bruno = lead(
        "Bruno Lima",
        checkout="https://pay.kiwify.com.br/Zz9Yy8X",
        contacts=[contact(ContactKind.PHONE, "+5511987654321")],
    )
    for item in (ana, bruno):
        item.identity_keys = keys_for_lead(item)
    return [ana, bruno]


def arrivals() -> list[Lead]:
    """A batch: known people under other keys, a weak key with and without the same name,
    a newcomer seen twice, and someone with no key at all."""
    same_phone = lead(
        "B. Lima", checkout=None, contacts=[contact(ContactKind.PHONE, "+5511987654321")]
    )
    agency = lead("Agência Digital", checkout=None)  # Ana's domain, another name: not Ana
    agency.domain = "anasouza.com.br"
    ana_site = lead("Ana Souza", checkout=None)  # Ana's domain and Ana's name: Ana
    ana_site.domain = "anasouza.com.br"
    carla = lead(
        "Carla", checkout=None, contacts=[contact(ContactKind.EMAIL, "carla@carla.com.br")]
    )
    carla_again = copy.deepcopy(carla)
    nobody = lead(None, checkout=None)
    return [same_phone, agency, ana_site, carla, carla_again, nobody]


def test_a_batch_gets_the_uids_one_by_one_would(database_url: str) -> None:
    store = open_store(database_url)
    try:
        rules = Rules.from_file(QUALIFY_RULES_FILE)
        people = stored_people()
        store.save(people, None, rules)
        ana_uid, bruno_uid = (store.find_lead_uid(p) for p in people)
        assert ana_uid and bruno_uid

        one_by_one = Deduper(MemoryStats(), DedupeConfig(), store)
        single = arrivals()

        async def each() -> None:
            for item in single:
                await one_by_one.dedupe(item)

        asyncio.run(each())

        batched = Deduper(MemoryStats(), DedupeConfig(), store)
        batch = arrivals()
        asyncio.run(batched.dedupe_many(batch))
    finally:
        store.engine.dispose()

    uids = [item.lead_uid for item in batch]
    assert uids[0] == bruno_uid  # the stored phone
    assert uids[1] not in (ana_uid, bruno_uid)  # a shared domain under another name
    assert uids[2] == ana_uid  # the domain with the same name
    assert uids[3] == uids[4] and uids[3] not in (ana_uid, bruno_uid)  # one newcomer, twice
    assert all(uids)

    def shape(items: list[Lead]) -> list[object]:
        """Stored uids as they are; new uids by first appearance (they are random)."""
        known = {ana_uid: "ana", bruno_uid: "bruno"}
        names: dict[str | None, str] = {}
        return [
            known.get(i.lead_uid) or names.setdefault(i.lead_uid, f"new{len(names)}") for i in items
        ]

    assert shape(batch) == shape(single)
    assert batched.stats.get_stats() == one_by_one.stats.get_stats()


def people(count: int) -> list[Lead]:
    found = []
    for n in range(count):
        item = lead(
            f"Pessoa {n}",
            checkout=None,
            contacts=[contact(ContactKind.EMAIL, f"pessoa{n}@empresa{n}.com.br")],
        )
        item.identity_keys = keys_for_lead(item)
        found.append(item)
    return found


def test_batches_written_in_the_background_all_land(sqlite_url: str, tmp_path: Path) -> None:
    store = open_store(sqlite_url)
    persister = Persister(
        MemoryStats(), PersistConfig(batch_size=2, spill_dir=tmp_path / "unsaved"), store, None
    )

    async def scenario() -> None:
        await persister.add_many(people(5))  # two full batches go in the background
        await persister.add_many(people(7)[5:])
        await persister.finish()

    try:
        asyncio.run(scenario())
        stored = {row["name"] for row in store.iter_leads()}
    finally:
        store.engine.dispose()
    assert stored == {f"Pessoa {n}" for n in range(7)}
    assert persister.stats.get_value("leadcrawler/persist/created") == 7
    assert not (tmp_path / "unsaved").exists()


def test_a_background_batch_the_base_refuses_is_spilled_not_lost(tmp_path: Path) -> None:
    gone = open_store(f"sqlite:///{tmp_path}/missing-folder/leads.sqlite3", auto_migrate=False)
    persister = Persister(
        MemoryStats(),
        PersistConfig(batch_size=2, retry_times=0, spill_dir=tmp_path / "unsaved"),
        gone,
        None,
    )

    async def scenario() -> None:
        await persister.add_many(people(5))
        await persister.finish()

    asyncio.run(scenario())
    gone.engine.dispose()
    spilled = [
        line
        for path in (tmp_path / "unsaved").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert len(spilled) == 5
    assert persister.stats.get_value("leadcrawler/persist/spilled") == 5
