"""Summaries of a lead for scoring, from a pipeline item or from rows of the base.

Both paths read the same contact ``details`` flags that the enrich stage writes
(``free_provider``, ``role_address``, ``disposable``, ``whatsapp_capable``, ``mx_status``
and ``a_fallback``), so one rule book scores both. An e-mail whose domain cannot receive
mail (null MX, NXDOMAIN, no MX and no address) earns nothing; a DNS timeout is not
held against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from leadcrawler.domain.items import ContactKind, ContactStatus, Lead
from leadcrawler.domain.scoring import LeadFacts

UNDELIVERABLE_MX = frozenset({"null-mx", "nxdomain"})


def undeliverable(details: dict[str, Any]) -> bool:
    status = details.get("mx_status")
    if status in UNDELIVERABLE_MX:
        return True
    return status == "no-mx" and not details.get("a_fallback")


@dataclass(frozen=True, slots=True)
class ContactView:
    kind: str
    value: str
    status: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OfferView:
    platform: str
    price_brl: Decimal | None


def social_network(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.").removeprefix("m.")


def build_facts(
    contacts: Iterable[ContactView],
    offers: Iterable[OfferView],
    *,
    domain: str | None,
    cnpj: str | None,
    last_seen: datetime | None,
) -> LeadFacts:
    facts = LeadFacts(own_domain=bool(domain), cnpj=bool(cnpj), last_seen=last_seen)
    for contact in contacts:
        if contact.status != ContactStatus.VALID:
            continue
        if contact.kind == ContactKind.EMAIL:
            if contact.details.get("disposable"):
                facts.disposable_emails += 1
                continue
            if undeliverable(contact.details):
                facts.undeliverable_emails += 1
                continue
            if contact.details.get("free_provider"):
                facts.free_emails += 1
            else:
                facts.business_emails += 1
            if contact.details.get("role_address"):
                facts.role_emails += 1
        elif contact.kind == ContactKind.PHONE:
            facts.phones += 1
            if contact.details.get("whatsapp_capable"):
                facts.whatsapp = True
        elif contact.kind == ContactKind.WHATSAPP:
            facts.whatsapp = True
        elif contact.kind == ContactKind.SOCIAL:
            facts.social_networks.add(social_network(contact.value))
    for offer in offers:
        facts.offers += 1
        facts.platforms.add(offer.platform)
        if offer.price_brl is not None and (
            facts.max_price is None or offer.price_brl > facts.max_price
        ):
            facts.max_price = offer.price_brl
    return facts


def facts_from_item(lead: Lead) -> LeadFacts:
    contacts = [
        ContactView(c.kind, c.normalized or c.value, c.status, c.details) for c in lead.contacts
    ]
    offers = [OfferView(o.platform, o.price_brl) for o in lead.offers]
    return build_facts(
        contacts, offers, domain=lead.domain, cnpj=lead.cnpj, last_seen=lead.sighting.seen_at
    )
