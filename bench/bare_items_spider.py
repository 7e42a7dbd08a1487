"""The bench's baseline: a bare Scrapy spider yielding the list's rows into a no-op pipeline.

    scrapy runspider bench/bare_items_spider.py -a file=list.csv -s LOG_LEVEL=ERROR

No project settings, no leadcrawler code: the cost of Scrapy moving items, nothing else.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import Any

import scrapy


class NoopPipeline:
    def process_item(self, item: Any) -> Any:
        return item


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings = {
        "ITEM_PIPELINES": {f"{__name__}.NoopPipeline": 100},
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
    }

    def __init__(self, file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file = file

    async def start(self) -> AsyncIterator[Any]:
        with open(self.file, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                yield dict(row)
