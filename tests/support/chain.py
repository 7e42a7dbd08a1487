"""Run leads through the real pipeline chain (normalize → ... → persist), no crawl."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.misc import load_object
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
    crawler.spider = crawler._create_spider()
    order = sorted(crawler.settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    stages = [load_object(path).from_crawler(crawler) for path, _ in order]

    async def go() -> None:
        for stage in stages:
            if hasattr(stage, "open_spider"):
                await _maybe_await(stage.open_spider())
        for lead in leads:
            item: Any = lead
            try:
                for stage in stages:
                    item = await _maybe_await(stage.process_item(item))
            except DropItem:
                continue
        for stage in reversed(stages):
            if hasattr(stage, "close_spider"):
                await _maybe_await(stage.close_spider())

    asyncio.run(go())
    assert crawler.stats is not None
    return crawler.stats.get_stats()


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value):
        return await value
    return value
