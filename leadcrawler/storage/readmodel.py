"""The read side of the historical base: typed rows, and which contact is best.

:meth:`LeadStore.iter_leads` yields :class:`StoredLead` rows; the export, the CLI and next
the API read them, and choose a lead's best contacts with the functions here, so that
"the best e-mail" means the same everywhere: an address on the producer's own domain
before a free-mail one before a role address (``contato@``...); a WhatsApp-capable mobile
before other phones.

:func:`lead_provenance` reads one lead with every value's provenance (contacts with where
and how each was found, offers, value history, sightings) into :class:`LeadProvenance`: the
API's ``GET /v1/leads/{id}`` and the LGPD access report (``leadcrawler access``) are two
renderings of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadcrawler.storage.models import ContactRow, LeadRow, OfferRow, SightingRow, ValueHistory


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the base stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StoredContact(TypedDict):
    kind: str  # email, phone, whatsapp, social
    value: str  # normalised (E.164, lower-cased domain, canonical URL)
    status: str  # valid, invalid, unverified
    certainty: str
    source_url: str
    first_seen: datetime
    last_seen: datetime
    details: dict[str, Any]


class StoredOffer(TypedDict):
    platform: str
    checkout_url: str
    product_name: str | None
    price_brl: Decimal | None
    seller_id: str | None


class StoredLead(TypedDict):
    id: int  # the row id: the API's keyset cursor resumes after it
    lead_id: str
    name: str | None
    legal_name: str | None
    cnpj: str | None
    website: str | None
    domain: str | None
    score: int | None
    tier: str | None
    score_reasons: dict[str, int]
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    source_urls: list[str]
    contacts: list[StoredContact]
    offers: list[StoredOffer]
    # LGPD: why the lead is held (PRIVACY_* settings when it was last stored).
    legal_basis: str | None
    purpose: str | None
    lia_reference: str | None


def valid(contacts: Sequence[StoredContact], kind: str) -> list[StoredContact]:
    return [c for c in contacts if c["kind"] == kind and c["status"] == "valid"]


def _email_rank(contact: StoredContact) -> int:
    details = contact["details"] or {}
    if details.get("role_address"):
        return 2
    return 1 if details.get("free_provider") else 0  # the producer's own domain first


def _phone_rank(contact: StoredContact) -> int:
    """A number published as WhatsApp, then a WhatsApp-capable mobile, then other phones."""
    if contact["kind"] == "whatsapp":
        return 0
    details = contact["details"] or {}
    return 1 if details.get("whatsapp_capable") else 2


def ranked_emails(lead: StoredLead) -> list[StoredContact]:
    """Valid e-mails, best first: own domain, then free mail, then role addresses."""
    return sorted(valid(lead["contacts"], "email"), key=_email_rank)


def ranked_phones(lead: StoredLead) -> list[StoredContact]:
    """Every valid number of the lead, its WhatsApp numbers included, best first: published
    as WhatsApp, then WhatsApp-capable mobiles, then the others.

    A producer who publishes only a WhatsApp link has that one number: it must be in the
    phone column. A number seen both ways is listed once, as WhatsApp.
    """
    contacts = lead["contacts"]
    ranked = sorted(valid(contacts, "whatsapp") + valid(contacts, "phone"), key=_phone_rank)
    best: dict[str, StoredContact] = {}
    for contact in ranked:
        best.setdefault(contact["value"], contact)
    return list(best.values())


def whatsapp_numbers(lead: StoredLead) -> list[StoredContact]:
    """The numbers on WhatsApp: published as WhatsApp, then WhatsApp-capable phones."""
    return [c for c in ranked_phones(lead) if _phone_rank(c) < 2]


def best_contact(lead: StoredLead) -> tuple[str, str] | None:
    """``(kind, value)`` of the one contact to try first: the best e-mail, else a WhatsApp
    number, else the best phone, else a social profile."""
    for kind, found in (
        ("email", ranked_emails(lead)),
        ("whatsapp", whatsapp_numbers(lead)),
        ("phone", ranked_phones(lead)),
        ("social", valid(lead["contacts"], "social")),
    ):
        if found:
            return kind, found[0]["value"]
    return None


# --- one lead with its provenance ------------------------------------------------------


class ProvenanceContact(TypedDict):
    kind: str
    value: str  # normalised
    raw: str  # as found on the page
    status: str
    certainty: str
    details: dict[str, Any]
    source_url: str
    method: str
    first_seen: datetime
    last_seen: datetime
    times_seen: int


class ProvenanceOffer(TypedDict):
    platform: str
    checkout_url: str
    product_name: str | None
    price_brl: Decimal | None
    seller_id: str | None
    first_seen: datetime
    last_seen: datetime


class ProvenanceValue(TypedDict):
    field: str
    ref: str
    value: str
    first_seen: datetime
    last_seen: datetime
    times_seen: int


class ProvenanceSighting(TypedDict):
    source: str
    spider: str
    url: str
    run_id: int | None
    seen_at: datetime


class LeadProvenance(TypedDict):
    lead_id: str
    display_name: str | None
    legal_name: str | None
    cnpj: str | None
    website: str | None
    domain: str | None
    score: int | None
    tier: str | None
    score_reasons: dict[str, int]
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    enrichment: dict[str, Any]
    # LGPD: why the lead is held (PRIVACY_* settings when it was last stored).
    legal_basis: str | None
    purpose: str | None
    lia_reference: str | None
    contacts: list[ProvenanceContact]
    offers: list[ProvenanceOffer]
    history: list[ProvenanceValue]
    sightings: list[ProvenanceSighting]


def lead_provenance(
    session: Session, row: LeadRow, *, first_sightings: int | None = None
) -> LeadProvenance:
    """``row`` with every value's provenance, children in the order they were recorded.

    ``first_sightings``: only the N earliest sightings (by time); None: every sighting.
    """
    lead_id = row.id
    contacts = session.scalars(
        select(ContactRow).where(ContactRow.lead_id == lead_id).order_by(ContactRow.id)
    )
    offers = session.scalars(
        select(OfferRow).where(OfferRow.lead_id == lead_id).order_by(OfferRow.id)
    )
    history = session.scalars(
        select(ValueHistory).where(ValueHistory.lead_id == lead_id).order_by(ValueHistory.id)
    )
    sightings_query = select(SightingRow).where(SightingRow.lead_id == lead_id)
    if first_sightings is None:
        sightings_query = sightings_query.order_by(SightingRow.id)
    else:
        sightings_query = sightings_query.order_by(SightingRow.seen_at).limit(first_sightings)
    return {
        "lead_id": row.uid,
        "display_name": row.display_name,
        "legal_name": row.legal_name,
        "cnpj": row.cnpj,
        "website": row.website,
        "domain": row.domain,
        "score": row.score,
        "tier": row.tier,
        "score_reasons": row.score_reasons,
        "first_seen": as_utc(row.first_seen),
        "last_seen": as_utc(row.last_seen),
        "times_seen": row.times_seen,
        "enrichment": row.enrichment,
        "legal_basis": row.legal_basis,
        "purpose": row.purpose,
        "lia_reference": row.lia_reference,
        "contacts": [
            {
                "kind": c.kind,
                "value": c.value,
                "raw": c.raw,
                "status": c.status,
                "certainty": c.certainty,
                "details": c.details,
                "source_url": c.source_url,
                "method": c.method,
                "first_seen": as_utc(c.first_seen),
                "last_seen": as_utc(c.last_seen),
                "times_seen": c.times_seen,
            }
            for c in contacts
        ],
        "offers": [
            {
                "platform": o.platform,
                "checkout_url": o.checkout_url,
                "product_name": o.product_name,
                "price_brl": o.price_brl,
                "seller_id": o.seller_id,
                "first_seen": as_utc(o.first_seen),
                "last_seen": as_utc(o.last_seen),
            }
            for o in offers
        ],
        "history": [
            {
                "field": h.field,
                "ref": h.ref,
                "value": h.value,
                "first_seen": as_utc(h.first_seen),
                "last_seen": as_utc(h.last_seen),
                "times_seen": h.times_seen,
            }
            for h in history
        ],
        "sightings": [
            {
                "source": s.source,
                "spider": s.spider,
                "url": s.url,
                "run_id": s.run_id,
                "seen_at": as_utc(s.seen_at),
            }
            for s in session.scalars(sightings_query)
        ],
    }
