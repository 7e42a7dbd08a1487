"""The base of the platform spiders: which URLs to crawl and how outcomes are recorded.

Arguments every platform spider takes:
  ``-a urls=URL[,URL...]``   crawl these pages;
  ``-a urls_file=PATH``      crawl the URLs in PATH, one per line (``#`` starts a comment);
  ``-a limit=N``             with neither: take at most N pending URLs of this platform from
                             the frontier, oldest first (default ``FRONTIER_DEFAULT_LIMIT``).

In frontier mode each URL's outcome is reported back: ``done`` when fetched and parsed,
``gone`` on 404/410, a failed attempt otherwise (``failed`` after
``FRONTIER_MAX_ATTEMPTS``), and ``deferred`` (still pending, attempt not counted) when the
request was never really tried (the domain's circuit breaker is open). So cron runs make
progress and never loop on dead pages.

URLs that are not product pages of the spider's platform are skipped and counted, and
query strings are dropped before anything is requested: on checkout links they carry
affiliate ids and a buyer's prefilled e-mail, name, phone or CPF.

Settings: ``FRONTIER_MAX_ATTEMPTS``, ``FRONTIER_CLAIM_TTL``, ``FRONTIER_DEFAULT_LIMIT``; the
frontier lives in the crawl's base (the storage extension, ``DATABASE_*``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from leadcrawler.browser import render_settings
from leadcrawler.domain.items import Lead, Offer, Sighting
from leadcrawler.domain.platforms import (
    Platform,
    canonical_platform_url,
    load_platforms,
    platform_for_url,
)
from leadcrawler.exceptions import DeferredRequest
from leadcrawler.extensions import StorageExtension
from leadcrawler.extraction.extract import read_product_page
from leadcrawler.spiders.sitevisit import SiteVisitMixin, site_name
from leadcrawler.storage.frontier import FrontierStore, Outcome

logger = logging.getLogger(__name__)

FRONTIER_META = "leadcrawler_frontier_url"
RENDERED_META = "leadcrawler_rendered"


class UsageError(ValueError):
    """A spider argument is missing or wrong; the message says how to fix it."""


def read_urls(urls: str | None, urls_file: str | None) -> Iterable[str]:
    """URLs from ``-a urls=`` (comma-separated) and ``-a urls_file=`` (one per line, ``#``)."""
    if urls:
        yield from (u.strip() for u in urls.split(",") if u.strip())
    if urls_file:
        path = Path(urls_file)
        if not path.is_file():
            raise UsageError(f"urls_file {urls_file!r} does not exist")
        for line in path.read_text("utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                yield line


class PlatformSpider(SiteVisitMixin, scrapy.Spider):
    platform_key: ClassVar[str]

    def __init__(
        self,
        urls: str | None = None,
        urls_file: str | None = None,
        limit: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.arguments = {"urls": urls, "urls_file": urls_file, "limit": limit, **kwargs}
        self.platform: Platform = load_platforms()[self.platform_key]
        self.input_urls = list(read_urls(urls, urls_file))
        self.limit: int | None = None
        if limit is not None:
            try:
                self.limit = int(limit)
            except ValueError:
                raise UsageError(f"limit must be a whole number, not {limit!r}") from None
            if self.limit < 1:
                raise UsageError("limit must be at least 1")
        self.frontier: FrontierStore | None = None
        self.claimed: list[str] = []
        self.outcomes: list[tuple[str, Outcome, str | None]] = []

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # Platform pages may need the browser rung; discovery spiders never start one.
        settings.update(render_settings(settings), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.report_outcomes, signal=signals.spider_closed)
        return spider

    @property
    def uses_frontier(self) -> bool:
        return not self.input_urls

    async def start(self) -> AsyncIterator[Any]:
        urls = self.input_urls or await self._claim_from_frontier()
        seen: set[str] = set()
        for url in urls:
            if self.platform.product_id(url) is None:
                self._inc("input/not_a_product_page")
                logger.warning("Skipping %s: not a %s product page", url, self.platform.name)
                if self.uses_frontier:
                    self.outcomes.append((url, Outcome.GONE, "not a product page"))
                continue
            canonical = canonical_platform_url(url)
            if canonical in seen:
                self._inc("input/duplicate")
                continue
            seen.add(canonical)
            meta = {FRONTIER_META: url} if self.uses_frontier else {}
            # A claimed URL must come back with an outcome: a short link redirecting to a
            # checkout also claimed would otherwise be dropped silently by the dupefilter.
            yield scrapy.Request(
                canonical,
                callback=self.parse,
                errback=self.on_error,
                meta=meta,
                dont_filter=self.uses_frontier,
            )

    async def _claim_from_frontier(self) -> list[str]:
        settings = self.crawler.settings
        limit = self.limit or settings.getint("FRONTIER_DEFAULT_LIMIT")
        base = await StorageExtension.of(self.crawler).base()
        self.frontier = base.frontier(
            max_attempts=settings.getint("FRONTIER_MAX_ATTEMPTS"),
            claim_ttl=settings.getfloat("FRONTIER_CLAIM_TTL"),
        )
        urls = await asyncio.to_thread(self.frontier.claim, self.platform_key, limit)
        self.claimed = urls
        self._inc("frontier/claimed", len(urls))
        logger.info("Took %d pending %s URL(s) from the frontier", len(urls), self.platform.name)
        return urls

    def render_again(self, response: Response) -> scrapy.Request | None:
        """The last rung: the same page rendered by the browser, if not tried yet.

        Returns None when rendering is off or this response was already rendered.
        """
        if response.meta.get(RENDERED_META) or not self.crawler.settings.getbool("RENDER_ENABLED"):
            return None
        self._inc("extract/render/requested")
        settings = self.crawler.settings
        context = {"ignore_https_errors": settings.getbool("RENDER_IGNORE_HTTPS_ERRORS")}
        return response.request.replace(  # type: ignore[union-attr]
            url=response.url,
            meta={
                **response.meta,
                "playwright": True,
                "playwright_context_kwargs": context,
                RENDERED_META: True,
            },
            dont_filter=True,
        )

    def parse_sales_site(self, response: TextResponse) -> Iterator[Any]:
        """A short link that landed on the producer's own sales page: a lead for that site."""
        redirects = response.meta.get("redirect_urls", [])
        links = [u for u in redirects if self.platform.product_id(u)]
        self._inc("extract/sales_site")
        lead = Lead(
            sighting=Sighting(source=self.platform_key, url=response.url, spider=self.name),
            display_name=site_name(response),
            website=response.url,
            offers=[
                Offer(platform=self.platform_key, checkout_url=self.platform.checkout_url(u))
                for u in links[:1]
            ],
        )
        # The sales page is the producer's own site: read it and its contact pages.
        yield from self.visit_site(lead, response)

    def lead_or_render(self, lead: Lead | None, response: Response) -> Iterator[Any]:
        """The lead (after its site visit); with none, the browser rung or ``no_lead``."""
        if lead is not None:
            yield from self.visit_site(lead)
            return
        rendered = self.render_again(response)
        if rendered is not None:
            yield rendered
            return
        self._inc("extract/no_lead")
        logger.info("No producer found on %s", response.url)

    @staticmethod
    def rung(response: Response, rung: str) -> str:
        """Fields found on a rendered page count under the ``render`` rung."""
        return "render" if response.meta.get(RENDERED_META) else rung

    # Outcomes -----------------------------------------------------------------------

    def page_done(self, response: Response) -> None:
        """Call from ``parse``: the page was fetched and parsed (with or without a lead)."""
        url = response.meta.get(FRONTIER_META)
        if url:
            self.outcomes.append((url, Outcome.DONE, None))

    def on_error(self, failure: Failure) -> None:
        url = failure.request.meta.get(FRONTIER_META)  # type: ignore[attr-defined]
        outcome, reason = self._classify(failure)
        if url:
            self.outcomes.append((url, outcome, reason))

    def _classify(self, failure: Failure) -> tuple[Outcome, str]:
        if failure.check(HttpError):
            response: Response = failure.value.response
            status = response.status
            if status in (404, 410):
                self._inc("page/gone")
                logger.info("Gone (%s): %s", status, response.url)
                return Outcome.GONE, f"HTTP {status}"
            self._inc(f"page/http_{status}")
            return Outcome.FAILED, f"HTTP {status}"
        if failure.check(DeferredRequest):
            self._inc("page/deferred")
            return Outcome.DEFERRED, str(failure.value)
        name = failure.type.__name__ if failure.type else "unknown"
        self._inc(f"page/error/{name}")
        logger.warning("Failed %s: %s", failure.request.url, failure.getErrorMessage())  # type: ignore[attr-defined]
        return Outcome.FAILED, f"{name}: {failure.getErrorMessage()}"[:500]

    async def report_outcomes(self, spider: scrapy.Spider, reason: str) -> None:
        if self.frontier is None:
            return
        outcomes, self.outcomes = self.outcomes, []
        reported = {url for url, _outcome, _error in outcomes}
        # Claimed but never answered (the crawl was stopped, a request was dropped):
        # back to pending without counting an attempt.
        outcomes += [(u, Outcome.DEFERRED, reason) for u in self.claimed if u not in reported]
        await asyncio.to_thread(self.frontier.report, outcomes)
        for _url, outcome, _error in outcomes:
            self._inc(f"frontier/{outcome.value}")

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{self.platform_key}/{key}", count)


class StatePageSpider(PlatformSpider):
    """A platform whose pages are JS applications: meta/JSON-LD, page state, text, browser.

    Subclasses name the page-state formats to try (``states``) and the shape of a seller
    id (``seller_id``); :func:`leadcrawler.extraction.extract.read_product_page` does the reading.
    """

    states: ClassVar[tuple[str, ...]]
    seller_id: ClassVar[re.Pattern[str]]

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        self.page_done(response)
        if not isinstance(response, TextResponse):
            self._inc("extract/not_html")
            return
        if self.platform.product_id(response.url) is None:
            yield from self.parse_elsewhere(response)
            return
        page = read_product_page(response, states=self.states, seller_id=self.seller_id)
        for rung, found in page.found():
            self._inc(f"extract/{self.rung(response, rung)}/{found}")
        for rung in page.bad_states:
            self._inc(f"extract/bad_state/{rung}")
        lead = page.lead(
            platform=self.platform_key,
            spider=self.name,
            url=response.url,
            checkout_url=self.platform.checkout_url(response.url),
        )
        # A producer's own site (from the page state) is read for more contacts.
        yield from self.lead_or_render(lead, response)

    def parse_elsewhere(self, response: TextResponse) -> Iterator[Any]:
        """Redirected away from the product: its own sales site, or a login wall."""
        if platform_for_url(response.url) is None:
            yield from self.parse_sales_site(response)
            return
        self._inc("extract/not_a_product_page")
        logger.info("Not a %s product page after redirects: %s", self.platform.name, response.url)
