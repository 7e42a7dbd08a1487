"""The bare-Scrapy baseline for bench/crawl_throughput.py: the same pages, nothing done with them.

Fetches the start URLs (checkouts and sales links; Scrapy follows the redirects), and on a
producer's site its home page and the ``/contato`` page, as the project reads them. Yields
nothing. Run with ``scrapy runspider`` outside the project (no project settings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls_file).read_text("utf-8").split()

    async def start(self) -> AsyncIterator[Any]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        if "kiwify" not in response.url:  # a producer's site: read its contact page too
            yield response.follow("/contato", callback=self.done)

    def done(self, response: Response) -> None:
        return None
