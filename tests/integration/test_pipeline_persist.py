"""Persist stage: batches, runs recorded, and no lead lost when the base refuses writes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.pipelines.persist import PersistPipeline
from leadcrawler.storage.db import make_engine
from leadcrawler.storage.models import Run
from leadcrawler.storage.repository import LeadStore
from leadcrawler.storage.store import open_store
from tests.support.factories import lead, project_settings


class FakeSpider(Spider):
    name = "kiwify"


def make(database_url: str, tmp_path: Path, **settings: object) -> PersistPipeline:
    crawler = get_crawler(
        FakeSpider,
        settings_dict=project_settings(
            DATABASE_URL=database_url,
            PERSIST_SPILL_DIR=str(tmp_path / "unsaved"),
            PERSIST_RETRY_BACKOFF=0.01,
            **settings,
        ),
    )
    crawler.spider = crawler._create_spider()
    crawler.spider.arguments = {"urls": "https://pay.kiwify.com.br/AbC1234"}
    return PersistPipeline.from_crawler(crawler)


def items(n: int) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(n):
        item = lead(f"Produtor {i}", checkout=f"https://pay.kiwify.com.br/P{i:06d}")
        item.identity_keys = keys_for_lead(item)
        out.append(item)
    return out


def test_leads_are_written_in_batches_and_the_run_is_recorded(
    database_url: str, tmp_path: Path
) -> None:
    pipeline = make(database_url, tmp_path, PERSIST_BATCH_SIZE=2)

    async def scenario() -> None:
        await pipeline.open_spider()
        for item in items(5):
            await pipeline.process_item(item)
        await pipeline.close_spider()

    asyncio.run(scenario())
    stats = pipeline.stats.get_stats()
    assert stats["leadcrawler/persist/batches"] == 3
    assert stats["leadcrawler/persist/created"] == 5
    store = open_store(database_url)
    assert store.count_leads() == 5
    with store.sessions() as session:
        [run] = session.scalars(select(Run)).all()
        assert run.spider == "kiwify"
        assert run.arguments == {"urls": "https://pay.kiwify.com.br/AbC1234"}
        assert run.counts["leadcrawler/persist/created"] == 5
    store.engine.dispose()


def test_leads_the_base_refuses_are_spilled_not_lost(sqlite_url: str, tmp_path: Path) -> None:
    pipeline = make(sqlite_url, tmp_path, PERSIST_BATCH_SIZE=10, PERSIST_RETRY_TIMES=2)

    async def scenario() -> None:
        await pipeline.open_spider()
        assert pipeline.store is not None
        pipeline.store.engine.dispose()
        # The database goes away mid-crawl: nothing listens where the base was.
        pipeline.store = LeadStore(make_engine("postgresql+psycopg2://postgres@127.0.0.1:9/gone"))
        for item in items(3):
            await pipeline.process_item(item)
        await pipeline.flush()

    asyncio.run(scenario())
    stats = pipeline.stats.get_stats()
    assert stats["leadcrawler/persist/batch_errors"] == 3  # first try + 2 retries
    assert stats["leadcrawler/persist/spilled"] == 3
    [spill] = (tmp_path / "unsaved").glob("unsaved-*.jsonl")
    names = [json.loads(line)["display_name"] for line in spill.read_text().splitlines()]
    assert names == ["Produtor 0", "Produtor 1", "Produtor 2"]


def test_contradictory_settings_are_rejected(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match="PERSIST_BATCH_SIZE"):
        make(sqlite_url, tmp_path, PERSIST_BATCH_SIZE=0)
    with pytest.raises(NotConfigured, match="PERSIST_ENABLED"):
        make(sqlite_url, tmp_path, PERSIST_ENABLED=False)
