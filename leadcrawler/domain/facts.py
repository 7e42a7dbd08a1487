"""What scoring reads about a lead, in one shape, and the one function that scores a lead.

The shape is :class:`LeadView`: a lead as the base holds it — its contacts (kind, normalised
value, status and the ``details`` flags the enrich stage writes: ``free_provider``,
``role_address``, ``disposable``, ``whatsapp_capable``, ``mx_status``, ``a_fallback``), its
offers (platform, price), own domain, CNPJ and last sighting. The qualify step views one
sighting this way (:func:`leadcrawler.enricher.qualify.sighting_view`), the set-based writer
and the re-score paths view the merged stored lead; every one of them scores with
:func:`score_lead`, so a lead's score never depends on who computed it.

An e-mail whose domain cannot receive mail (null MX, NXDOMAIN, no MX and no address) earns
nothing; a DNS timeout is not held against it. Social networks are named by
:func:`leadcrawler.domain.social.network_name` (``twitter.com`` and ``x.com`` are one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from leadcrawler.domain.items import ContactKind, ContactStatus
from leadcrawler.domain.scoring import LeadFacts, Rules, Score, score
from leadcrawler.domain.social import network_name

UNDELIVERABLE_MX = frozenset({"null-mx", "nxdomain"})


def undeliverable(details: dict[str, Any]) -> bool:
    status = details.get("mx_status")
    if status in UNDELIVERABLE_MX:
        return True
    return status == "no-mx" and not details.get("a_fallback")


# The views are named tuples, not frozen dataclasses: as immutable, and built several
# times faster (one view per contact of every lead scored, by qualify and the writer).
class ContactView(NamedTuple):
    kind: str
    value: str  # normalised (E.164, lower-cased e-mail, canonical URL)
    status: str
    details: dict[str, Any]


class OfferView(NamedTuple):
    platform: str
    price_brl: Decimal | None


class LeadView(NamedTuple):
    """A lead as scoring reads it: one sighting, or everything the base knows about one."""

    contacts: Sequence[ContactView]
    offers: Sequence[OfferView]
    domain: str | None
    cnpj: str | None
    last_seen: datetime | None


def build_facts(lead: LeadView) -> LeadFacts:
    facts = LeadFacts()
    facts.own_domain = bool(lead.domain)
    facts.cnpj = bool(lead.cnpj)
    facts.last_seen = lead.last_seen
    for kind, value, status, details in lead.contacts:
        if status != ContactStatus.VALID:
            continue
        if kind == ContactKind.EMAIL:
            if details.get("disposable"):
                facts.disposable_emails += 1
                continue
            if undeliverable(details):
                facts.undeliverable_emails += 1
                continue
            if details.get("free_provider"):
                facts.free_emails += 1
            else:
                facts.business_emails += 1
            if details.get("role_address"):
                facts.role_emails += 1
        elif kind == ContactKind.PHONE:
            facts.phones += 1
            if details.get("whatsapp_capable"):
                facts.whatsapp = True
        elif kind == ContactKind.WHATSAPP:
            facts.whatsapp = True
        elif kind == ContactKind.SOCIAL:
            network = network_name(value)
            if network:
                facts.social_networks.add(network)
    for offer in lead.offers:
        facts.offers += 1
        facts.platforms.add(offer.platform)
        if offer.price_brl is not None and (
            facts.max_price is None or offer.price_brl > facts.max_price
        ):
            facts.max_price = offer.price_brl
    return facts


def score_lead(lead: LeadView, rules: Rules, now: datetime | None = None) -> Score:
    """The score, tier and points per criterion of ``lead`` under ``rules``.

    ``now`` (default: the current time) is when recency is judged.
    """
    return score(build_facts(lead), rules, now)
