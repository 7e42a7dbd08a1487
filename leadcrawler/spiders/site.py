"""Producers' own websites: contacts, CNPJ and where else they sell.

  scrapy crawl site -a urls=https://www.loja.com.br/[,...]   (or -a urls_file=PATH)
  scrapy crawl site -a retry_failed=true [-a limit=N]

With URLs, each site becomes a lead (source ``site``) read by the website visit of
:mod:`leadcrawler.spiders.sitevisit`. With ``retry_failed`` the spider takes the leads of
the base whose website visit failed in an earlier run and visits their sites again; the
result is merged into the same lead (``leadcrawler enrich --retry-failed`` runs this).

Settings: ``ENRICH_SITE_*``; retries come from the crawl's base (the storage extension).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import scrapy

from leadcrawler.domain.items import Lead, Sighting
from leadcrawler.domain.urls import canonical_url
from leadcrawler.extensions import StorageExtension
from leadcrawler.spiders.base import UsageError, read_urls
from leadcrawler.spiders.sitevisit import SiteVisitMixin


class SiteSpider(SiteVisitMixin, scrapy.Spider):
    name = "site"

    def __init__(
        self,
        urls: str | None = None,
        urls_file: str | None = None,
        retry_failed: str | bool = False,
        limit: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.retry_failed = str(retry_failed).lower() in {"1", "true", "yes"}
        self.arguments = {"urls": urls, "urls_file": urls_file, "retry_failed": self.retry_failed}
        self.input_urls = list(read_urls(urls, urls_file))
        try:
            self.limit = int(limit) if limit is not None else None
        except ValueError:
            raise UsageError(f"limit must be a whole number, not {limit!r}") from None
        if not self.input_urls and not self.retry_failed:
            raise UsageError("site needs -a urls=..., -a urls_file=PATH or -a retry_failed=true")

    async def start(self) -> AsyncIterator[Any]:
        targets: list[tuple[str, str | None]] = [(u, None) for u in self.input_urls]
        if self.retry_failed:
            targets += await self._failed_visits()
        for url, uid in targets:
            website = canonical_url(url, assume_scheme="https")
            if website is None:
                self._count("input/not_a_url")
                continue
            lead = Lead(
                sighting=Sighting(source="site", url=website, spider=self.name),
                website=website,
                lead_uid=uid,  # a retry merges into the lead it retries
            )
            for output in self.visit_site(lead):
                yield output

    async def _failed_visits(self) -> list[tuple[str, str | None]]:
        store = (await StorageExtension.of(self.crawler).base()).leads()
        retries = await asyncio.to_thread(store.site_retries, self.limit)
        self.logger.info("Retrying the website visit of %d lead(s)", len(retries))
        self._count("retries", len(retries))
        return [(r.website, r.uid) for r in retries]

    def _count(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"site/{key}", count)
