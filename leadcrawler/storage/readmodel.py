"""The read side of the historical base: typed rows, and which contact is best.

:meth:`LeadStore.iter_leads` yields :class:`StoredLead` rows; the export, the CLI and next
the API read them, and choose a lead's best contacts with the functions here, so that
"the best e-mail" means the same everywhere: an address on the producer's own domain
before a free-mail one before a role address (``contato@``...); a WhatsApp-capable mobile
before other phones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict


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
