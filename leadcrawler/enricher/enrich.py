"""Enrich step: facts about each contact, written into its ``details``, and run metrics.

- phone and WhatsApp: ``phone_type`` (mobile, landline, toll_free, shared_cost, voip,
  unknown), ``country_code``, ``ddd`` and ``state`` (Brazilian numbers; None otherwise) and
  ``whatsapp_capable`` (a Brazilian mobile; always True for a WhatsApp contact, since a
  WhatsApp link is evidence of an account, landline business accounts included).
- e-mail: ``free_provider`` (gmail.com, uol.com.br...), ``role_address`` (contato@,
  suporte@...) and ``disposable`` (throw-away mailbox services), offline; then, when MX
  checks are on, ``mx_status`` (valid-mx, no-mx, null-mx, nxdomain, dns-timeout,
  dns-error), ``a_fallback`` and ``mx_hosts`` from :mod:`leadcrawler.enricher.dns`
  (asynchronous, cached per domain, one query per domain per run while fresh).

Invalid contacts and contacts without a normalised value are left alone. A DNS timeout
or error never drops or downgrades the lead: the lead is kept with what is known and
``enrichment["mx"]`` says ``retry: <status>`` for a later run.

The visit of the producer's website happens in the spider (through Scrapy's downloader,
so robots.txt, throttling, retries and the circuit breaker apply); the spider records it
in ``enrichment["site"]`` and ``enrichment["site_seconds"]``. :meth:`Enricher.finish` sets
``leadcrawler/enrich/success_rate`` (percent of enrichment steps that worked),
``leadcrawler/enrich/mean_seconds_per_lead`` and ``leadcrawler/enrich/coverage/<field>``
(percent of leads with a valid e-mail, phone, WhatsApp, social profile, CNPJ, website).

The visit's limits are this step's settings too (:class:`SiteVisitConfig`, handed to the
spiders by the chain): ``ENRICH_SITE_ENABLED``, ``ENRICH_SITE_MAX_PAGES``,
``ENRICH_SITE_MAX_CHECKOUT_LINKS``, ``ENRICH_SITE_MAX_PAGE_CONTACTS``,
``ENRICH_SITE_MAX_CONTACTS``.

Settings: ``ENRICH_ENABLED``, ``ENRICH_DNS_ENABLED``, ``ENRICH_DNS_NAMESERVERS`` (empty: the
machine's resolvers), ``ENRICH_DNS_TIMEOUT``, ``ENRICH_DNS_MAX_TTL``,
``ENRICH_DNS_NEGATIVE_TTL``, ``ENRICH_DNS_FAILURE_TTL``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from leadcrawler.domain.emails import is_free_provider, is_role_address
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead
from leadcrawler.domain.phones import PhoneReadings, normalize_phone
from leadcrawler.enricher.config import ConfigError, Settings, Stats
from leadcrawler.enricher.dns import DnsConfig, MxChecker, MxResult, is_disposable

logger = logging.getLogger(__name__)

COVERAGE_FIELDS = ("email", "phone", "whatsapp", "social", "cnpj", "website")


def offline_facts(contact: ContactPoint, readings: PhoneReadings | None = None) -> dict[str, Any]:
    """The derived facts for ``contact`` (a valid or unverified one with ``normalized``).

    A phone the normalize step already parsed is read from ``readings``, not parsed again.
    """
    value = contact.normalized
    if not value:
        return {}
    if contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        info = readings.get(value) if readings is not None else None
        if info is None:
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
        free, disposable = _domain_flags(domain)
        return {
            "free_provider": free,
            "role_address": is_role_address(local),
            "disposable": disposable,
        }
    return {}


@lru_cache(maxsize=16384)  # a list's addresses share a few thousand domains
def _domain_flags(domain: str) -> tuple[bool, bool]:
    """(free provider, disposable) for an e-mail domain: fixed lists, asked once a domain."""
    return is_free_provider(domain), is_disposable(domain)


def mx_facts(result: MxResult) -> dict[str, Any]:
    return {
        "mx_status": str(result.status),
        "a_fallback": result.a_fallback,
        "mx_hosts": list(result.exchanges[:3]),
    }


@dataclass(frozen=True, slots=True)
class SiteVisitConfig:
    """How a spider visits a producer's site (the enrich step owns ``ENRICH_SITE_*``)."""

    enabled: bool = True
    max_pages: int = 5  # pages read per site, home included
    max_checkout_links: int = 5  # more on one page: a directory, none taken as the owner's
    max_page_contacts: int = 25  # more contact values on one page: a directory of people
    max_contacts: int = 50  # contacts one visit may add to a lead

    @classmethod
    def from_settings(cls, settings: Settings) -> SiteVisitConfig:
        return cls(
            enabled=settings.getbool("ENRICH_SITE_ENABLED"),
            max_pages=settings.getint("ENRICH_SITE_MAX_PAGES"),
            max_checkout_links=settings.getint("ENRICH_SITE_MAX_CHECKOUT_LINKS"),
            max_page_contacts=settings.getint("ENRICH_SITE_MAX_PAGE_CONTACTS"),
            max_contacts=settings.getint("ENRICH_SITE_MAX_CONTACTS"),
        )


def mx_checker_from_settings(settings: Settings) -> MxChecker | None:
    """The MX checker ``ENRICH_DNS_*`` ask for; None when MX checks are off or impossible."""
    if not settings.getbool("ENRICH_DNS_ENABLED"):
        return None
    try:
        return DnsConfig.from_settings(settings).checker()
    except ConfigError as exc:
        logger.warning("MX checks are off: %s", exc)
        return None


def _valid_emails(lead: Lead) -> list[ContactPoint]:
    return [
        c
        for c in lead.contacts
        if c.kind == ContactKind.EMAIL and c.status == ContactStatus.VALID and c.normalized
    ]


def mail_domains(lead: Lead) -> set[str]:
    """The domains of ``lead``'s valid e-mail addresses: what the MX checks ask about."""
    return {_domain_of(c) for c in _valid_emails(lead)}


def _domain_of(contact: ContactPoint) -> str:
    assert contact.normalized is not None
    return contact.normalized.rsplit("@", 1)[1].lower()


class Enricher:
    def __init__(
        self, stats: Stats, mx: MxChecker | None = None, readings: PhoneReadings | None = None
    ) -> None:
        self.stats = stats
        self.mx = mx
        self.readings = readings
        self.leads = 0
        self.seconds = 0.0
        self.covered: Counter[str] = Counter()
        self.steps: Counter[str] = Counter()  # "ok" / "failed"

    async def enrich(self, lead: Lead) -> Lead:
        started = time.monotonic()
        self.add_offline_facts(lead)
        if self.mx is not None:
            await self.check_mx(lead)
        elapsed = time.monotonic() - started + float(lead.enrichment.get("site_seconds") or 0)
        self.account(lead, elapsed)
        return lead

    async def enrich_many(self, leads: list[Lead]) -> list[Lead]:
        """:meth:`enrich` for a batch: each distinct e-mail domain is asked once, together."""
        mx = self.mx
        if mx is not None:
            await mx.prefetch(domain for lead in leads for domain in mail_domains(lead))
        monotonic = time.monotonic
        for lead in leads:  # what enrich does, without a coroutine per lead
            started = monotonic()
            self.add_offline_facts(lead)
            if mx is not None:
                await self.check_mx(lead)
            elapsed = monotonic() - started + float(lead.enrichment.get("site_seconds") or 0)
            self.account(lead, elapsed)
        return leads

    async def check_mx(self, lead: Lead) -> None:
        assert self.mx is not None
        emails = _valid_emails(lead)
        domains = sorted({_domain_of(c) for c in emails})
        if not domains:
            return
        # After a batch's prefetch every answer is cached: read it without a task per domain.
        by_domain: dict[str, MxResult] = {}
        missing = []
        for domain in domains:
            cached = self.mx.cached(domain)
            if cached is None:
                missing.append(domain)
            else:
                by_domain[domain] = cached
        if missing:
            answers = await asyncio.gather(*(self.mx.check(domain) for domain in missing))
            by_domain.update(zip(missing, answers, strict=True))
        results = [by_domain[domain] for domain in domains]
        for contact in emails:
            contact.details.update(mx_facts(by_domain[_domain_of(contact)]))
        for result in results:
            self.stats.inc_value(f"leadcrawler/enrich/mx/{result.status}")
        retry = [str(r.status) for r in results if r.retryable]
        lead.enrichment["mx"] = f"retry: {retry[0]}" if retry else "ok"

    def account(self, lead: Lead, seconds: float) -> None:
        self.leads += 1
        self.seconds += seconds
        valid: set[str] = set()
        whatsapp_capable = False
        for contact in lead.contacts:
            if contact.status == ContactStatus.VALID:
                valid.add(contact.kind.value)
            if not whatsapp_capable and contact.details.get("whatsapp_capable"):
                whatsapp_capable = True
        covered = self.covered
        for name in ("email", "phone"):
            if name in valid:
                covered[name] += 1
        if whatsapp_capable or "whatsapp" in valid:
            covered["whatsapp"] += 1
        if "social" in valid:
            covered["social"] += 1
        if lead.cnpj:
            covered["cnpj"] += 1
        if lead.website:
            covered["website"] += 1
        enrichment = lead.enrichment
        if enrichment:
            for step in ("site", "mx"):
                status = str(enrichment.get(step) or "")
                if status == "ok":
                    self.steps["ok"] += 1
                elif status.startswith(("failed", "retry")):
                    self.steps["failed"] += 1

    def finish(self) -> None:
        """Write the run's enrichment metrics into the stats."""
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

    def add_offline_facts(self, lead: Lead) -> None:
        inc = self.stats.inc_value
        for contact in lead.contacts:
            if contact.status == ContactStatus.INVALID:
                continue
            facts = offline_facts(contact, self.readings)
            if not facts:
                continue
            contact.details.update(facts)
            inc(_key("leadcrawler/enrich/contacts/", contact.kind))
            if "phone_type" in facts:
                inc(_key("leadcrawler/enrich/phone_type/", facts["phone_type"]))
            for flag, key in _FLAG_KEYS:
                if facts.get(flag):
                    inc(key)


_FLAG_KEYS = tuple(
    (flag, f"leadcrawler/enrich/{flag}")
    for flag in ("free_provider", "role_address", "disposable", "whatsapp_capable")
)
_KEYS: dict[tuple[str, str], str] = {}


def _key(prefix: str, name: Any) -> str:
    """``f"{prefix}{name}"``, kept: a stats key is spelled once per name, not per contact."""
    try:
        return _KEYS[prefix, name]
    except KeyError:
        key = _KEYS[prefix, name] = f"{prefix}{name}"
        return key
