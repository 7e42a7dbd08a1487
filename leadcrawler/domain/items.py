"""The lead model: typed dataclasses that travel from spiders through the pipeline chain.

A :class:`Lead` is one producer (person or company) seen selling on a platform. Every
contact value carries its own provenance (the URL it came from, when, and how it was
found) from the moment a spider creates it: later privacy work (access requests,
suppression, retention) relies on it.

Spiders fill the raw facts; the pipeline stages fill the derived fields
(``normalized``, ``status``, ``details``, ``lead_uid``, ``identity_keys``, score).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


class ContactKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    SOCIAL = "social"


class ContactStatus(StrEnum):
    UNVERIFIED = "unverified"  # as extracted, not checked yet
    VALID = "valid"  # passed the validate stage
    INVALID = "invalid"  # failed the validate stage; kept for provenance, never exported as best


class Certainty(StrEnum):
    CERTAIN = "certain"  # from a mailto/tel/wa.me link, structured data or a labelled block
    UNCERTAIN = "uncertain"  # from loose text


@dataclass(slots=True)
class ContactPoint:
    """One contact value (an e-mail, a phone, a WhatsApp number or a social profile URL)."""

    kind: ContactKind
    value: str  # exactly as found on the page
    source_url: str  # provenance: where it was found
    found_at: datetime = field(default_factory=utcnow)  # provenance: when (UTC)
    method: str = ""  # provenance: how, e.g. "mailto", "og", "text"
    certainty: Certainty = Certainty.CERTAIN
    normalized: str | None = None  # set by the normalize stage (E.164, lower-cased domain...)
    status: ContactStatus = ContactStatus.UNVERIFIED
    details: dict[str, Any] = field(default_factory=dict)  # derived facts (phone type, DDD...)


@dataclass(slots=True)
class Offer:
    """A product the producer sells on a platform."""

    platform: str
    checkout_url: str
    product_name: str | None = None
    price_brl: Decimal | None = None
    seller_id: str | None = None  # the platform's store/seller id, when the page shows it
    # Found as a link on a site ("cursos que eu recomendo"), not on the platform's own page:
    # evidence to follow, not ownership. Its key is weak (``linked:``, see domain.identity).
    linked: bool = False


@dataclass(slots=True)
class Sighting:
    """Where and when this lead was seen."""

    source: str  # the platform or site kind, e.g. "kiwify"
    url: str
    spider: str
    seen_at: datetime = field(default_factory=utcnow)


@dataclass(slots=True)
class Lead:
    """A producer, as one spider saw them on one page."""

    sighting: Sighting
    display_name: str | None = None
    legal_name: str | None = None
    cnpj: str | None = None
    website: str | None = None
    domain: str | None = None  # registered domain of ``website``, set by normalize
    contacts: list[ContactPoint] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)

    # Filled by the pipeline chain.
    identity_keys: list[str] = field(default_factory=list)
    lead_uid: str | None = None
    score: int | None = None
    tier: str | None = None
    score_reasons: dict[str, int] = field(default_factory=dict)
    # Enrichment steps and how they went: {"site": "ok" | "failed: <why>", "mx": "ok" |
    # "retry: dns-timeout", "site_seconds": 1.2}. A failed step never drops the lead; it
    # is stored and retried by a later run (``leadcrawler enrich --retry-failed``).
    enrichment: dict[str, Any] = field(default_factory=dict)
    # Why this lead may be held at all (LGPD art. 7 IX, 10, 37): stamped from the settings
    # by the privacy gate (leadcrawler.privacy.gate); storage refuses a lead without them.
    legal_basis: str | None = None
    purpose: str | None = None
    lia_reference: str | None = None


@dataclass(slots=True)
class DiscoveredUrl:
    """A platform product page found by discovery (search engines, web archives).

    Discovery spiders yield these; the frontier stage records them for the platform
    spiders to crawl.
    """

    platform: str
    url: str  # canonical
    discovered_by: str  # e.g. "serp:searxng", "wayback"
    query: str | None = None
    seen_at: datetime = field(default_factory=utcnow)
