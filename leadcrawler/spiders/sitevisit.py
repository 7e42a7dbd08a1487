"""Website contact discovery: visit a producer's site for the contacts platforms hide.

A platform page rarely shows how to reach the producer; their own site usually does. A
spider hands a lead with a ``website`` (or a link-in-bio hub such as linktr.ee among its
social profiles) to :meth:`SiteVisitMixin.visit_site`, which fetches the home page and
then the likely contact pages (contato, fale-conosco, suporte, atendimento, sobre,
quem-somos, termos, privacidade) of the same site, one at a time, through Scrapy's
downloader — so robots.txt, throttling, retries, the circuit breaker, the SSRF guard and
the proxy all apply — and reads each with :func:`leadcrawler.extraction.contacts.extract_page`.

The lead is yielded once the visit ends, with what was found added (each value with its
own page URL and method), the CNPJ and legal name if the site shows them, and the
selling-platform product pages it links to as *linked* offers: evidence of where else
they sell, whose identity key is weak (it joins the checkout's own page only when the names
agree, since a site also links the products it recommends) and queued in the frontier.
A site that cannot be read never costs the lead: it is yielded with what was known and
``enrichment["site"] = "failed: <why>"``, for a later ``leadcrawler enrich --retry-failed``.
Pages refused by robots.txt are skipped, not read.

Settings: ``ENRICH_SITE_ENABLED``, ``ENRICH_SITE_MAX_PAGES`` (pages per site, home
included) and the directory limits, owned by the enrich step and read here through its
:class:`~leadcrawler.enricher.enrich.SiteVisitConfig` (from the crawl's chain). Phone numbers
are read with the enricher's phone rules (the normalize step's ``NORMALIZE_DEFAULT_REGION``
and ``NORMALIZE_PHONE_REPAIR``). No setting is read here.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from leadcrawler.domain.items import ContactKind, DiscoveredUrl, Lead, Offer
from leadcrawler.domain.phones import PhoneRules
from leadcrawler.domain.platforms import load_platforms
from leadcrawler.domain.social import LINK_HUB_DOMAINS, social_profile
from leadcrawler.domain.urls import is_platform_domain, registered_domain
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.enrich import SiteVisitConfig
from leadcrawler.extensions import EnricherExtension
from leadcrawler.extraction.contacts import contact_page_links, extract_page
from leadcrawler.pipelines.privacy import gate_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Visit:
    lead: Lead
    site: str  # registered domain: pages of other sites are not followed
    queue: deque[str] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    pages_read: int = 0
    requested: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


def site_name(response: TextResponse) -> str | None:
    """The name a site gives itself: ``og:site_name``, else its ``<title>``."""
    name = response.xpath('//meta[@property="og:site_name"]/@content').get()
    if not name:
        name = response.xpath("normalize-space(//title)").get()
    return name.strip() if name and name.strip() else None


class SiteVisitMixin:
    crawler: Crawler
    # Spiders that yield leads (platform and site spiders): their feeds (`-O leads.csv`) hold
    # leads only; the checkout links they find are frontier evidence, not rows for analysts.
    yields_leads: bool = True

    def site_to_visit(self, lead: Lead) -> str | None:
        if lead.website:
            return lead.website
        for contact in lead.contacts:
            if contact.kind == ContactKind.SOCIAL and registered_domain(contact.value) in (
                LINK_HUB_DOMAINS
            ):
                return contact.value
        return None

    def visit_site(self, lead: Lead, response: Response | None = None) -> Iterator[Any]:
        """Yield ``lead`` after reading its site; ``response`` is the home page if fetched."""
        gate = gate_for(self.crawler)
        if gate is not None and gate.is_suppressed(lead):
            # A suppressed person: no site visit, no lead. Counted, never logged in detail.
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("leadcrawler/privacy/suppressed_before_visit")
            return
        start = self.site_to_visit(lead)
        if not self._site_config().enabled or not start:
            yield lead
            return
        visit = Visit(lead=lead, site=registered_domain(start) or "")
        visit.seen.add(start)
        if response is not None:
            visit.requested += 1
            yield from self._read_site_page(response, visit)
        else:
            yield self._site_request(start, visit)

    def _site_request(self, url: str, visit: Visit) -> scrapy.Request:
        visit.requested += 1
        return scrapy.Request(
            url,
            callback=self._read_site_page,
            errback=self._site_page_failed,
            cb_kwargs={"visit": visit},
            dont_filter=True,  # two leads may share a site; each visit reads its pages
        )

    def _read_site_page(self, response: Response, visit: Visit) -> Iterator[Any]:
        visit.pages_read += 1
        self._site_stat("pages_read")
        if isinstance(response, TextResponse):
            yield from self._take_contacts(response, visit)
            if visit.pages_read == 1:
                if visit.lead.display_name is None:
                    visit.lead.display_name = site_name(response)
                self._plan_pages(response, visit)
        yield from self._next_page(visit)

    def _site_config(self) -> SiteVisitConfig:
        try:
            return EnricherExtension.of(self.crawler).chain.site_visit_config
        except NotConfigured:  # a crawl without the enricher: the same step's reading
            return SiteVisitConfig.from_settings(self.crawler.settings)

    def _phone_rules(self) -> PhoneRules:
        try:
            return EnricherExtension.of(self.crawler).chain.normalize_config.phones
        except (ConfigError, NotConfigured):
            return PhoneRules()  # the normalize stage reports its bad setting

    def _take_contacts(self, response: TextResponse, visit: Visit) -> Iterator[DiscoveredUrl]:
        """Add the page's contacts to the lead; yield its platform links for the frontier.

        A page linking more than ``ENRICH_SITE_MAX_CHECKOUT_LINKS`` checkouts is a directory of
        products (a blog of recommendations): none of them becomes the owner's offer. A page
        carrying more than ``ENRICH_SITE_MAX_PAGE_CONTACTS`` contact values is a directory of
        people: none of them (nor its CNPJ) becomes the owner's. Both are counted
        (``directory_page/checkouts|contacts``). Every checkout link found is queued in the
        frontier, so its own page says whose it is. A lead never gets more than
        ``ENRICH_SITE_MAX_CONTACTS`` contacts from one visit.
        """
        lead = visit.lead
        config = self._site_config()
        page = extract_page(response, phones=self._phone_rules())
        platforms = load_platforms()
        checkouts: dict[str, str] = {}
        for link in page.platform_links:
            if link.product_id and link.platform in platforms:
                checkouts.setdefault(platforms[link.platform].checkout_url(link.url), link.platform)
        for checkout, platform in checkouts.items():
            yield DiscoveredUrl(platform=platform, url=checkout, discovered_by="site")
        if len(checkouts) > config.max_checkout_links:
            self._directory(response, "checkouts", len(checkouts))
            checkouts = {}
        offers = {o.checkout_url for o in lead.offers}
        for checkout, platform in checkouts.items():
            if checkout not in offers:
                # Linked, not owned: a site also links the checkouts it recommends, so the
                # link only joins a producer whose name agrees (a weak ``linked:`` key).
                lead.offers.append(Offer(platform=platform, checkout_url=checkout, linked=True))
                offers.add(checkout)
                self._site_stat("platform_offers")
        values = {(c.kind, c.value) for c in page.contacts}
        if len(values) > config.max_page_contacts:
            self._directory(response, "contacts", len(values))
            return
        known = {(c.kind, c.value) for c in lead.contacts}
        limit = config.max_contacts
        for contact in page.contacts:
            if (contact.kind, contact.value) in known:
                continue
            if len(lead.contacts) >= limit:
                self._site_stat("contacts_capped")
                break
            lead.contacts.append(contact)
            known.add((contact.kind, contact.value))
        if lead.cnpj is None and page.cnpjs:
            lead.cnpj = page.cnpjs[0]
        if lead.legal_name is None and page.legal_names:
            lead.legal_name = page.legal_names[0]

    def _directory(self, response: TextResponse, what: str, count: int) -> None:
        self._site_stat(f"directory_page/{what}")
        logger.info(
            "Directory page (%d %s): none taken as the site owner's: %s", count, what, response.url
        )

    def _plan_pages(self, response: TextResponse, visit: Visit) -> None:
        domain = registered_domain(response.url)
        if domain in LINK_HUB_DOMAINS:
            # A link-in-bio hub: the producer's own site is one of its links.
            own = self._own_site_from_hub(response)
            if own:
                visit.site = registered_domain(own) or visit.site
                visit.lead.website = visit.lead.website or own
                visit.queue.append(own)
            return
        visit.site = domain or visit.site
        for link in contact_page_links(response):
            if registered_domain(link) == visit.site and link not in visit.seen:
                visit.queue.append(link)

    @staticmethod
    def _own_site_from_hub(response: TextResponse) -> str | None:
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            domain = registered_domain(url)
            if not url.startswith(("http://", "https://")) or domain is None:
                continue
            if domain in LINK_HUB_DOMAINS or social_profile(url) or is_platform_domain(url):
                continue
            if "whatsapp" in domain or domain in {"wa.me"}:
                continue
            return url
        return None

    def _next_page(self, visit: Visit) -> Iterator[Any]:
        limit = self._site_config().max_pages
        while visit.queue and visit.requested < limit:
            url = visit.queue.popleft()
            if url in visit.seen:
                continue
            visit.seen.add(url)
            yield self._site_request(url, visit)
            return
        yield self._finish(visit)

    def _site_page_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        visit: Visit = request.cb_kwargs["visit"]
        reason = self._failure_reason(failure)
        visit.failures.append(reason)
        self._site_stat(f"page_failed/{reason.split(':', 1)[0]}")
        logger.info("Site page not read (%s): %s", reason, request.url)
        yield from self._next_page(visit)

    @staticmethod
    def _failure_reason(failure: Failure) -> str:
        if failure.check(HttpError):
            return f"http_{failure.value.response.status}"
        message = failure.getErrorMessage()
        if "robots" in message.lower():
            return "robots_txt"
        return failure.type.__name__ if failure.type else "error"

    def _finish(self, visit: Visit) -> Lead:
        lead = visit.lead
        seconds = time.monotonic() - visit.started
        lead.enrichment["site_seconds"] = round(seconds, 3)
        if visit.pages_read:
            lead.enrichment["site"] = "ok"
            self._site_stat("ok")
        else:
            why = visit.failures[0] if visit.failures else "nothing read"
            lead.enrichment["site"] = f"failed: {why}"
            self._site_stat("failed")
        return lead

    def _site_stat(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"leadcrawler/enrich/site/{key}")
