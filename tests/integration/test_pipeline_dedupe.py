"""Dedupe stage: identity keys, in-run repeats, leads already in the base, bounded memory."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, ContactStatus
from leadcrawler.domain.scoring import Rules
from leadcrawler.extensions import StorageExtension
from leadcrawler.pipelines.dedupe import DedupePipeline
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.support.factories import contact, lead, project_settings


def close_base(pipeline: DedupePipeline) -> None:
    """What the end of a crawl does: the storage extension closes the crawl's base."""
    StorageExtension.of(pipeline.crawler).close()


def make(database_url: str, **settings: object) -> DedupePipeline:
    crawler = get_crawler(settings_dict=project_settings(DATABASE_URL=database_url, **settings))
    return DedupePipeline.from_crawler(crawler)


def test_keys_cover_every_exact_identifier() -> None:
    item = lead(
        seller_id="Xk2Pq9LmN3bV7cR",
        contacts=[
            contact(ContactKind.EMAIL, "Ana.Souza@Cursos.com.br"),
            contact(ContactKind.WHATSAPP, "+5511987654321"),
            contact(ContactKind.SOCIAL, "https://instagram.com/ana"),
        ],
    )
    item.cnpj = "11222333000181"
    assert keys_for_lead(item) == [
        "cnpj:11222333000181",
        "email:ana.souza@cursos.com.br",
        "phone:+5511987654321",
        "social:instagram.com/ana",
        "seller:kiwify:Xk2Pq9LmN3bV7cR",
        "checkout:https://pay.kiwify.com.br/AbC1234",
    ]


def test_invalid_contacts_never_link_leads() -> None:
    bad = contact(ContactKind.EMAIL, "not-an-email")
    bad.status = ContactStatus.INVALID
    assert keys_for_lead(lead(checkout=None, contacts=[bad])) == []


def test_repeats_in_a_run_and_across_runs_get_one_uid(sqlite_url: str) -> None:
    pipeline = make(sqlite_url)

    async def scenario() -> tuple[str | None, ...]:
        await pipeline.open_spider()
        first = await pipeline.process_item(
            lead(contacts=[contact(ContactKind.EMAIL, "ana@x.com.br")])
        )
        repeat = await pipeline.process_item(
            lead(
                checkout="https://pay.kiwify.com.br/Other12",
                contacts=[contact(ContactKind.EMAIL, "ANA@x.com.br")],
            )
        )
        other = await pipeline.process_item(
            lead("Bia", checkout="https://pay.kiwify.com.br/Bia1234")
        )
        close_base(pipeline)
        return first.lead_uid, repeat.lead_uid, other.lead_uid

    first, repeat, other = asyncio.run(scenario())
    assert first == repeat != other
    stats = pipeline.stats.get_stats()
    assert stats["leadcrawler/dedupe/new_lead"] == 2
    assert stats["leadcrawler/dedupe/repeat_in_run"] == 1

    # A later run finds the stored lead through the base.
    stored = lead(contacts=[contact(ContactKind.EMAIL, "ana@x.com.br")])
    stored.identity_keys = keys_for_lead(stored)
    stored.lead_uid = first
    store = open_store(sqlite_url)
    store.save([stored], None, Rules.from_file(QUALIFY_RULES_FILE))
    store.engine.dispose()
    later = make(sqlite_url)

    async def second_run() -> str | None:
        await later.open_spider()
        item = await later.process_item(
            lead(checkout=None, contacts=[contact(ContactKind.EMAIL, "ana@x.com.br")])
        )
        close_base(later)
        return item.lead_uid

    assert asyncio.run(second_run()) == first
    assert later.stats.get_value("leadcrawler/dedupe/known_lead") == 1


def test_in_run_memory_is_bounded(sqlite_url: str) -> None:
    pipeline = make(sqlite_url, DEDUPE_MAX_KEYS_IN_MEMORY=10)

    async def scenario() -> None:
        await pipeline.open_spider()
        for i in range(50):
            await pipeline.process_item(
                lead(f"P{i}", checkout=f"https://pay.kiwify.com.br/P{i:06d}")
            )
        close_base(pipeline)

    asyncio.run(scenario())
    assert len(pipeline.seen) == 10


def test_disabled_stage_is_not_configured(sqlite_url: str) -> None:
    with pytest.raises(NotConfigured):
        make(sqlite_url, DEDUPE_ENABLED=False)
