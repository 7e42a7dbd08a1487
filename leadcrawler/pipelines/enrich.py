"""Enrich stage: facts about each contact, written into its ``details``, and run metrics.

- phone and WhatsApp: ``phone_type`` (mobile, landline, toll_free, shared_cost, voip,
  unknown), ``country_code``, ``ddd`` and ``state`` (Brazilian numbers; None otherwise) and
  ``whatsapp_capable`` (a Brazilian mobile; always True for a WhatsApp contact, since a
  WhatsApp link is evidence of an account, landline business accounts included).
- e-mail: ``free_provider`` (gmail.com, uol.com.br...), ``role_address`` (contato@,
  suporte@...) and ``disposable`` (throw-away mailbox services), offline; then, when MX
  checks are on, ``mx_status`` (valid-mx, no-mx, null-mx, nxdomain, dns-timeout,
  dns-error), ``a_fallback`` and ``mx_hosts`` from :mod:`leadcrawler.enricher.dns` (asynchronous,
  cached per domain, one query per domain per run while fresh).

Invalid contacts and contacts without a normalised value are left alone. A DNS timeout
or error never drops or downgrades the lead: the lead is kept with what is known and
``enrichment["mx"]`` says ``retry: <status>`` for a later run.

The visit of the producer's website happens in the spider (through Scrapy's downloader,
so robots.txt, throttling, retries and the circuit breaker apply); the spider records it
in ``enrichment["site"]`` and ``enrichment["site_seconds"]``. At the end of the crawl this
stage sets ``leadcrawler/enrich/success_rate`` (percent of enrichment steps that worked),
``leadcrawler/enrich/mean_seconds_per_lead`` and ``leadcrawler/enrich/coverage/<field>``
(percent of leads with a valid e-mail, phone, WhatsApp, social profile, CNPJ, website).

Settings: ``ENRICH_ENABLED``, ``ENRICH_DNS_ENABLED``, ``ENRICH_DNS_NAMESERVERS`` (empty: the
machine's resolvers), ``ENRICH_DNS_TIMEOUT``, ``ENRICH_DNS_MAX_TTL``,
``ENRICH_DNS_NEGATIVE_TTL``, ``ENRICH_DNS_FAILURE_TTL``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.domain.emails import is_free_provider, is_role_address
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead
from leadcrawler.domain.phones import normalize_phone
from leadcrawler.enricher.dns import DnsConfig, MxChecker, MxResult, is_disposable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

COVERAGE_FIELDS = ("email", "phone", "whatsapp", "social", "cnpj", "website")


def offline_facts(contact: ContactPoint) -> dict[str, Any]:
    """The derived facts for ``contact`` (a valid or unverified one with ``normalized``)."""
    value = contact.normalized
    if not value:
        return {}
    if contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        info = normalize_phone(value)  # E.164: the region argument plays no part
        if info is None:
            return {}
        return {
            "phone_type": str(info.number_type),
            "country_code": info.country_code,
            "ddd": info.ddd,
            "state": info.state,
            "whatsapp_capable": info.whatsapp_capable or contact.kind == ContactKind.WHATSAPP,
        }
    if contact.kind == ContactKind.EMAIL and "@" in value:
        local, domain = value.rsplit("@", 1)
        return {
            "free_provider": is_free_provider(domain),
            "role_address": is_role_address(local),
            "disposable": is_disposable(domain),
        }
    return {}


def mx_facts(result: MxResult) -> dict[str, Any]:
    return {
        "mx_status": str(result.status),
        "a_fallback": result.a_fallback,
        "mx_hosts": list(result.exchanges[:3]),
    }


class EnrichPipeline:
    def __init__(self, stats: StatsCollector, mx: MxChecker | None = None) -> None:
        self.crawler: Crawler | None = None
        self.stats = stats
        self.mx = mx
        self.leads = 0
        self.seconds = 0.0
        self.covered: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()  # "ok" / "failed"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ENRICH_ENABLED"):
            raise NotConfigured("ENRICH_ENABLED is off")
        mx = None
        if settings.getbool("ENRICH_DNS_ENABLED"):
            try:
                mx = DnsConfig.from_settings(settings).checker()
            except NotConfigured as exc:
                logger.warning("MX checks are off: %s", exc)
        assert crawler.stats is not None
        pipeline = cls(stats=crawler.stats, mx=mx)
        pipeline.crawler = crawler
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        started = time.monotonic()
        self.add_offline_facts(item)
        if self.mx is not None:
            await self.check_mx(item)
        elapsed = time.monotonic() - started + float(item.enrichment.get("site_seconds") or 0)
        self.account(item, elapsed)
        return item

    async def check_mx(self, item: Lead) -> None:
        assert self.mx is not None
        emails = [
            c
            for c in item.contacts
            if c.kind == ContactKind.EMAIL and c.status == ContactStatus.VALID and c.normalized
        ]
        domains = sorted({c.normalized.rsplit("@", 1)[1].lower() for c in emails if c.normalized})
        if not domains:
            return
        results = await asyncio.gather(*(self.mx.check(domain) for domain in domains))
        by_domain = dict(zip(domains, results, strict=True))
        for contact in emails:
            assert contact.normalized is not None
            result = by_domain[contact.normalized.rsplit("@", 1)[1].lower()]
            contact.details.update(mx_facts(result))
        for result in results:
            self.stats.inc_value(f"leadcrawler/enrich/mx/{result.status}")
        retry = [str(r.status) for r in results if r.retryable]
        item.enrichment["mx"] = f"retry: {retry[0]}" if retry else "ok"

    def account(self, item: Lead, seconds: float) -> None:
        self.leads += 1
        self.seconds += seconds
        valid = {c.kind.value for c in item.contacts if c.status == ContactStatus.VALID}
        present = {
            "email": "email" in valid,
            "phone": "phone" in valid,
            "whatsapp": "whatsapp" in valid
            or any(c.details.get("whatsapp_capable") for c in item.contacts),
            "social": "social" in valid,
            "cnpj": bool(item.cnpj),
            "website": bool(item.website),
        }
        self.covered.update(name for name, there in present.items() if there)
        for step in ("site", "mx"):
            status = str(item.enrichment.get(step) or "")
            if status == "ok":
                self.steps["ok"] += 1
            elif status.startswith(("failed", "retry")):
                self.steps["failed"] += 1

    def close_spider(self) -> None:
        if not self.leads:
            return
        self.stats.set_value(
            "leadcrawler/enrich/mean_seconds_per_lead", round(self.seconds / self.leads, 3)
        )
        for name in COVERAGE_FIELDS:
            share = 100 * self.covered[name] / self.leads
            self.stats.set_value(f"leadcrawler/enrich/coverage/{name}", round(share, 1))
        tried = self.steps["ok"] + self.steps["failed"]
        if tried:
            rate = round(100 * self.steps["ok"] / tried, 1)
            self.stats.set_value("leadcrawler/enrich/success_rate", rate)

    def add_offline_facts(self, item: Lead) -> None:
        for contact in item.contacts:
            if contact.status == ContactStatus.INVALID:
                continue
            facts = offline_facts(contact)
            if not facts:
                continue
            contact.details.update(facts)
            self.stats.inc_value(f"leadcrawler/enrich/contacts/{contact.kind}")
            if "phone_type" in facts:
                self.stats.inc_value(f"leadcrawler/enrich/phone_type/{facts['phone_type']}")
            for flag in ("free_provider", "role_address", "disposable", "whatsapp_capable"):
                if facts.get(flag):
                    self.stats.inc_value(f"leadcrawler/enrich/{flag}")
