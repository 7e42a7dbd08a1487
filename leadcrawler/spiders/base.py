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
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from leadcrawler.browser import render_settings
from leadcrawler.distributed import is_distributed
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
from leadcrawler.middlewares import SSRFBlocked
from leadcrawler.pipelines.privacy import gate_for
from leadcrawler.spiders.sitevisit import SiteVisitMixin, site_name
from leadcrawler.storage.frontier import FrontierStore, Outcome

logger = logging.getLogger(__name__)

FRONTIER_META = "leadcrawler_frontier_url"
RENDERED_META = "leadcrawler_rendered"


class UsageError(ValueError):
    """A spider argument is missing or wrong; the message says how to fix it."""


MAX_LIMIT = 10_000_000  # more than any crawl takes; beyond it a typo, not a wish


def whole_number(name: str, value: str | int | None, maximum: int = MAX_LIMIT) -> int | None:
    """``-a name=value`` as a whole number from 1 to ``maximum`` (None when not given)."""
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {str(value)[:40]!r}") from None
    if not 1 <= number <= maximum:
        raise UsageError(f"{name} must be between 1 and {maximum}, not {number}")
    return number


def read_lines(name: str, file: str) -> list[str]:
    """The non-empty lines of a UTF-8 text file (``#`` starts a comment)."""
    path = Path(file)
    if not path.exists():
        raise UsageError(f"{name} {file!r} does not exist")
    if not path.is_file():
        raise UsageError(f"{name} {file!r} is not a regular file")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name} {file!r} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{name} {file!r} cannot be read: {exc.strerror}") from None
    if "\x00" in text:
        raise UsageError(f"{name} {file!r} is a binary file, not one entry per line")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def read_urls(urls: str | None, urls_file: str | None) -> list[str]:
    """URLs from ``-a urls=`` (comma-separated) and ``-a urls_file=`` (one per line, ``#``).

    Given but empty is an error: it must not quietly mean "take the frontier instead".
    """
    found: list[str] = []
    if urls is not None:
        found += [u.strip() for u in urls.split(",") if u.strip()]
        if not found:
            raise UsageError("urls is empty: give at least one URL (or leave urls out)")
    if urls_file is not None:
        from_file = read_lines("urls_file", urls_file)
        if not from_file:
            raise UsageError(f"urls_file {urls_file!r} holds no URL")
        found += from_file
    return found


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
        self.limit: int | None = whole_number("limit", limit)
        self.frontier: FrontierStore | None = None
        self.claimed: list[str] = []
        self.outcomes: list[tuple[str, Outcome, str | None]] = []
        self.seen_inputs: set[str] = set()

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # Platform pages may need the browser rung; discovery spiders never start one.
        settings.update(render_settings(settings), priority="spider")
        # A platform that is only data gets the checkouts' polite slot on its hosts too.
        slot = settings.get("PLATFORM_DOWNLOAD_SLOT")
        slots = settings.getdict("DOWNLOAD_SLOTS")
        platform = load_platforms().get(getattr(cls, "platform_key", ""))
        if slot and platform is not None and any(host not in slots for host in platform.hosts):
            for host in platform.hosts:
                slots.setdefault(host, dict(slot))
            settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

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
        for request in self._requests_for(urls):
            yield request

    async def more_requests(self) -> list[scrapy.Request]:
        """More work for a distributed crawl whose shared queue ran dry (see distributed.py).

        Frontier mode only: the next pending URLs (those discovery added meanwhile).
        """
        if not self.uses_frontier:
            return []
        return list(self._requests_for(await self._claim_from_frontier()))

    def _requests_for(self, urls: Iterable[str]) -> Iterator[scrapy.Request]:
        for url in urls:
            if self.platform.product_id(url) is None:
                self._inc("input/not_a_product_page")
                logger.warning("Skipping %s: not a %s product page", url, self.platform.name)
                if self.uses_frontier:
                    self.outcomes.append((url, Outcome.GONE, "not a product page"))
                continue
            canonical = canonical_platform_url(url)
            gate = gate_for(self.crawler)
            if gate is not None and gate.url_suppressed(canonical):
                # A forgotten or opposing producer's page: not requested at all.
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("leadcrawler/privacy/suppressed_before_visit")
                if self.uses_frontier:
                    self.outcomes.append((url, Outcome.GONE, "suppressed"))
                continue
            if canonical in self.seen_inputs:
                self._inc("input/duplicate")
                continue
            self.seen_inputs.add(canonical)
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
        frontier = await self._open_frontier()
        journal = self._claim_journal()
        reclaimed: list[str] = []
        if journal is not None and not self.claimed and journal.exists():
            # Same JOBDIR as a run that died (kill -9, power loss): its claims are ours.
            before = journal.read_text("utf-8").split()
            reclaimed = await asyncio.to_thread(frontier.reclaim, before)
            self._inc("frontier/reclaimed", len(reclaimed))
            logger.info("Took back %d URL(s) the interrupted run had claimed", len(reclaimed))
        urls = reclaimed + await asyncio.to_thread(frontier.claim, self.platform_key, limit)
        if journal is not None:
            await asyncio.to_thread(_append_lines, journal, urls)
        self.claimed += urls
        self._inc("frontier/claimed", len(urls))
        logger.info("Took %d pending %s URL(s) from the frontier", len(urls), self.platform.name)
        return urls

    def _claim_journal(self) -> Path | None:
        """With JOBDIR, the URLs this job claimed, written before they are crawled."""
        jobdir = self.crawler.settings.get("JOBDIR")
        return Path(jobdir) / f"{self.name}-frontier-claims.txt" if jobdir else None

    async def _open_frontier(self) -> FrontierStore:
        if self.frontier is None:
            settings = self.crawler.settings
            base = await StorageExtension.of(self.crawler).base()
            self.frontier = base.frontier(
                max_attempts=settings.getint("FRONTIER_MAX_ATTEMPTS"),
                claim_ttl=settings.getfloat("FRONTIER_CLAIM_TTL"),
            )
        return self.frontier

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
                # Only our own keys: Scrapy's (latency, proxy, slot) belong to the first fetch.
                **{key: response.meta[key] for key in (FRONTIER_META,) if key in response.meta},
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

    def left_host(self, response: Response) -> bool:
        """A rendered page whose final URL left the requested host is not read (counted).

        The page's own script navigated away (``location.replace``, a meta refresh): what it
        landed on says nothing about the checkout's producer and may be anything at all.
        """
        if not response.meta.get(RENDERED_META):
            return False
        requested = urlsplit(response.request.url if response.request else "").hostname
        if requested and urlsplit(response.url).hostname == requested:
            return False
        self._inc("extract/render/left_host")
        logger.warning("Rendered page of %s navigated away; not read", requested)
        return True

    @staticmethod
    def rung(response: Response, rung: str) -> str:
        """Fields found on a rendered page count under the ``render`` rung."""
        return "render" if response.meta.get(RENDERED_META) else rung

    # Outcomes -----------------------------------------------------------------------

    def page_done(self, response: Response) -> None:
        """Call from ``parse``: the page was fetched and parsed (with or without a lead)."""
        if not response.meta.get(RENDERED_META):  # a rendered second look is the same page
            self._inc("page/parsed")
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
        if failure.check(SSRFBlocked):
            # Never: the URL points at a private address; retrying cannot change that.
            self._inc("page/ssrf_blocked")
            return Outcome.GONE, str(failure.value)
        name = failure.type.__name__ if failure.type else "unknown"
        self._inc(f"page/error/{name}")
        logger.warning("Failed %s: %s", failure.request.url, failure.getErrorMessage())  # type: ignore[attr-defined]
        return Outcome.FAILED, f"{name}: {failure.getErrorMessage()}"[:500]

    async def report_outcomes(self, spider: scrapy.Spider, reason: str) -> None:
        answered, self.outcomes = self.outcomes, []
        if self.frontier is None and not answered:
            return
        outcomes: list[tuple[str, Outcome, str | None]] = []
        reported: set[str] = set()
        for url, outcome, error in answered:
            if url not in reported:  # a rendered re-request reports the same URL again
                reported.add(url)
                outcomes.append((url, outcome, error))
        if not is_distributed(self.crawler.settings):
            # Claimed but never answered (the crawl was stopped, a request was dropped):
            # back to pending without counting an attempt. In a distributed crawl a peer
            # may still answer them (they are in the shared queue); if none does, the
            # claim expires after FRONTIER_CLAIM_TTL.
            outcomes += [(u, Outcome.DEFERRED, reason) for u in self.claimed if u not in reported]
        # A distributed worker also reports URLs a peer claimed and it happened to fetch.
        frontier = await self._open_frontier()
        await asyncio.to_thread(frontier.report, outcomes)
        for _url, outcome, _error in outcomes:
            self._inc(f"frontier/{outcome.value}")
        journal = self._claim_journal()
        if journal is not None:
            journal.unlink(missing_ok=True)  # every claim has its outcome now

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{self.platform_key}/{key}", count)


def _append_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
        handle.flush()
        os.fsync(handle.fileno())


class StatePageSpider(PlatformSpider):
    """The generic ladder: meta/JSON-LD, page state, visible text, then the browser.

    Everything platform-specific is data in ``platforms.toml`` (the page-state formats to
    try, the shape of a seller id, how money is written in the state, and at most a small
    reader of the platform's own in place of the generic structured-data and text rungs);
    :func:`leadcrawler.extraction.extract.read_product_page` does the reading.
    """

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        self.page_done(response)
        if self.left_host(response):
            return
        if not isinstance(response, TextResponse):
            self._inc("extract/not_html")
            return
        if self.platform.product_id(response.url) is None:
            yield from self.parse_elsewhere(response)
            return
        page = read_product_page(
            response,
            states=self.platform.states,
            seller_id=self.platform.seller_id,
            money_in_state=self.platform.money_in_state,
            reader=self.platform.reader,
        )
        for rung, found in page.found():
            self._inc(f"extract/{self.rung(response, rung)}/{found}")
        for rung in page.bad_states:
            self._inc(f"extract/bad_state/{rung}")
        for reason in page.rejected:
            self._inc(f"extract/rejected/{reason}")
        for rung in page.failed_rungs:
            self._inc(f"extract/rung_failed/{rung}")
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
