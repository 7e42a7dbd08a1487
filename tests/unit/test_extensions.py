"""The crawl-wide services: one base per crawl, read from DATABASE_* settings."""

from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from leadcrawler.extensions import EnricherExtension, StorageExtension
from tests.support.factories import project_settings


def test_storage_reads_database_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    crawler = get_crawler(settings_dict=project_settings(DATABASE_URL=url))
    storage = StorageExtension.of(crawler)
    assert (storage.database_url, storage.auto_migrate) == (url, True)
    assert EnricherExtension.of(crawler).chain.stats is crawler.stats
    assert not (tmp_path / "x.sqlite3").exists()  # opened on first use only


def test_old_auto_migrate_name_is_honoured_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="leadcrawler.extensions"):
        crawler = get_crawler(settings_dict=project_settings(PERSIST_AUTO_MIGRATE=False))
    assert StorageExtension.of(crawler).auto_migrate is False
    assert "PERSIST_AUTO_MIGRATE is now DATABASE_AUTO_MIGRATE" in caplog.text


def test_no_database_url_means_no_storage() -> None:
    crawler = get_crawler(settings_dict=project_settings(DATABASE_URL=""))
    with pytest.raises(NotConfigured, match="no historical base"):
        StorageExtension.of(crawler)


def test_without_a_base_dedupe_runs_on_memory() -> None:
    import asyncio

    from leadcrawler.domain.items import ContactKind
    from leadcrawler.pipelines.dedupe import DedupePipeline
    from tests.support.factories import contact, lead

    crawler = get_crawler(settings_dict=project_settings(DATABASE_URL=""))
    pipeline = DedupePipeline.from_crawler(crawler)

    async def run() -> tuple[str | None, str | None]:
        await pipeline.open_spider()
        email = [contact(ContactKind.EMAIL, "ana@anasouza.com.br")]
        first = await pipeline.process_item(lead("Ana", contacts=email))
        again = await pipeline.process_item(
            lead("Ana", checkout="https://pay.kiwify.com.br/Zz9Yy8X", contacts=email)
        )
        return first.lead_uid, again.lead_uid

    first, again = asyncio.run(run())
    assert first is not None and first == again
