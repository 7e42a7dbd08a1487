"""Enrich stage: facts derived offline from each contact, written into its ``details``.

- phone and WhatsApp: ``phone_type`` (mobile, landline, toll_free, shared_cost, voip,
  unknown), ``country_code``, ``ddd`` and ``state`` (Brazilian numbers; None otherwise) and
  ``whatsapp_capable`` (a Brazilian mobile; always True for a WhatsApp contact, since a
  WhatsApp link is evidence of an account, landline business accounts included).
- e-mail: ``free_provider`` (gmail.com, uol.com.br...) and ``role_address`` (contato@,
  suporte@...).

Invalid contacts and contacts without a normalised value are left alone. Nothing here
touches the network: :func:`offline_facts` is a pure function of one contact. Network
enrichment (MX lookups, visiting the producer's site) will be a further step: it will make
``process_item`` an ``async def`` that merges these facts with awaited ones, running
blocking lookups off the reactor thread, and a failed lookup will leave the lead with what
is known (never drop it).

Settings: ``ENRICH_ENABLED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from leadcrawler.emails import is_free_provider, is_role_address
from leadcrawler.items import ContactKind, ContactPoint, ContactStatus, Lead
from leadcrawler.phones import normalize_phone

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


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
        return {"free_provider": is_free_provider(domain), "role_address": is_role_address(local)}
    return {}


class EnrichPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.crawler: Crawler | None = None
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ENRICH_ENABLED"):
            raise NotConfigured("ENRICH_ENABLED is off")
        assert crawler.stats is not None
        pipeline = cls(stats=crawler.stats)
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
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
            for flag in ("free_provider", "role_address", "whatsapp_capable"):
                if facts.get(flag):
                    self.stats.inc_value(f"leadcrawler/enrich/{flag}")
        return item
