"""Run leads through the real pipeline chain (normalize → ... → persist), no crawl.

Scrapy's own item pipeline manager drives the stages, as in a crawl: built from
``ITEM_PIPELINES``, opened in parallel, each lead through every enabled stage, closed; then
the engine-stopped signal lets the storage extension close the crawl's base.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from scrapy import Spider, signals
from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import Lead
from tests.support.factories import project_settings


class ChainSpider(Spider):
    name = "chain"


def run_chain(database_url: str, leads: Sequence[Lead], **settings: Any) -> dict[str, Any]:
    """Push ``leads`` through every enabled stage in ITEM_PIPELINES order; return the stats."""
    crawler = get_crawler(
        ChainSpider, settings_dict=project_settings(DATABASE_URL=database_url, **settings)
    )
    crawler.spider = ChainSpider.from_crawler(crawler)
    manager = ItemPipelineManager.from_crawler(crawler)

    async def go() -> None:
        await manager.open_spider_async()
        for lead in leads:
            try:
                await manager.process_item_async(lead)
            except DropItem:
                continue
        await manager.close_spider_async()
        await crawler.signals.send_catch_log_async(signal=signals.engine_stopped)

    asyncio.run(go())
    assert crawler.stats is not None
    return crawler.stats.get_stats()
