"""Minimisation (LGPD art. 6 III): a declared allowlist of what is stored per lead.

Only business-contact facts with a declared purpose are kept:

- per lead: ``display_name``, ``legal_name``, ``cnpj``, ``website``, ``domain``, its
  contacts, offers and sighting, the enrichment outcome (``ENRICHMENT_KEYS``);
- per contact: kind (e-mail, phone, WhatsApp, social profile), value, provenance
  (source URL, time, method), certainty, status and the derived facts in
  ``CONTACT_DETAIL_KEYS``; anything else in ``details`` is dropped;
- per offer: platform, checkout URL, product name, price, seller id.

Discarded before anything is stored or logged: CPF numbers (a natural person's tax id;
in names, product names, contact values or URLs), buyers' data in URLs (query strings
of checkout links carry a buyer's prefilled e-mail, name, phone or CPF: every URL is
reduced to its canonical form, and one with a CPF left in its path is dropped), and
contacts of a kind outside the allowlist. Each discard is counted by reason.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

from leadcrawler.domain.items import ContactKind, Lead
from leadcrawler.domain.urls import canonical_url

LEAD_FIELDS = ("display_name", "legal_name", "cnpj", "website", "domain")
CONTACT_KINDS = frozenset(ContactKind)
_PHONE_KINDS = (ContactKind.PHONE, ContactKind.WHATSAPP)
CONTACT_DETAIL_KEYS = frozenset(
    {
        # normalize / validate
        "repaired", "invalid_reason",
        # extraction
        "as_written", "label", "network", "handle", "link_hub",
        # enrichment
        "phone_type", "country_code", "ddd", "state", "whatsapp_capable", "free_provider",
        "role_address", "disposable", "mx_status", "a_fallback", "mx_hosts",
    }
)  # fmt: skip
ENRICHMENT_KEYS = frozenset({"site", "mx", "site_seconds"})

# A CPF written with its punctuation (123.456.789-09), or 11 bare digits after a "CPF"
# label. Bare 11-digit runs without a label are phones more often than not: those are
# judged by their check digits only when the text says CPF.
_CPF_FORMATTED = re.compile(r"(?<!\d)\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)")
_CPF_LABELLED = re.compile(r"(?i)\bc\.?p\.?f\.?\s*(?:n[º°o.]*\s*)?[:#-]?\s*(\d[\d.\s-]{9,13}\d)")


_NOT_DIGIT = re.compile(r"\D")


def is_cpf(raw: str) -> bool:
    """True when ``raw`` holds 11 digits whose CPF check digits hold."""
    digits = _NOT_DIGIT.sub("", raw)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    values = [int(d) for d in digits]
    for size in (9, 10):
        total = sum(v * w for v, w in zip(values[:size], range(size + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if values[size] != check:
            return False
    return True


def may_hold_cpf(text: str) -> bool:
    """False when :func:`find_cpfs` certainly finds nothing in ``text`` (a cheap test first).

    A written CPF needs a dot and a hyphen (``123.456.789-09``); a labelled one an ``f`` of
    its "CPF" label (the label is matched case-insensitively, and only ``f`` and ``F`` fold
    to ``f``).
    """
    if "-" in text and "." in text and _CPF_FORMATTED.search(text) is not None:
        return True
    return ("f" in text or "F" in text) and _CPF_LABELLED.search(text) is not None


def find_cpfs(text: str) -> list[str]:
    if not may_hold_cpf(text):
        return []  # most text: no candidate at all, nothing to check
    found = [m.group(0) for m in _CPF_FORMATTED.finditer(text) if is_cpf(m.group(0))]
    found += [m.group(1) for m in _CPF_LABELLED.finditer(text) if is_cpf(m.group(1))]
    return found


def strip_cpf(text: str | None) -> tuple[str | None, bool]:
    """``text`` without any CPF in it (and without a "CPF:" label left dangling)."""
    if not text:
        return text, False
    cpfs = find_cpfs(text)
    if not cpfs:
        return text, False
    for cpf in cpfs:
        text = re.sub(r"(?i)\bc\.?p\.?f\.?\s*(?:n[º°o.]*\s*)?[:#-]?\s*" + re.escape(cpf), "", text)
        text = text.replace(cpf, "")
    cleaned = re.sub(r"\s{2,}", " ", text).strip(" -\u2013\u2014,;:|")
    return (cleaned or None), True


@lru_cache(maxsize=4096)  # a sighting's contacts share its URL
def _safe_url(url: str | None) -> tuple[str | None, str | None]:
    """(canonical URL, None) or (None, reason) when nothing of it may be kept."""
    if url is None:
        return None, None
    canonical = canonical_url(url, assume_scheme="https")
    if canonical is None:
        return (None, "cpf") if find_cpfs(url) else (url, None)
    if find_cpfs(canonical):
        return None, "cpf"
    return canonical, None


def minimise(lead: Lead) -> Counter[str]:
    """Reduce ``lead`` to the allowlist in place; returns what was discarded, by reason."""
    dropped: Counter[str] = Counter()
    for name in ("display_name", "legal_name"):
        value, had = strip_cpf(getattr(lead, name))
        if had:
            setattr(lead, name, value)
            dropped["cpf"] += 1
    cnpj = lead.cnpj
    if cnpj and is_cpf(cnpj) and len(_NOT_DIGIT.sub("", cnpj)) == 11:
        lead.cnpj = None
        dropped["cpf"] += 1
    if lead.website is not None:
        url, why = _safe_url(lead.website)
        if why:
            lead.website = None
            dropped[f"url_{why}"] += 1
        elif url is not None:
            lead.website = url
    sighting = lead.sighting
    sighting_url, why = _safe_url(sighting.url)
    if why or sighting_url is None:
        sighting.url = f"https://{_host(sighting.url)}/"
        dropped["url_cpf"] += 1
    else:
        sighting.url = sighting_url

    kept = []
    for contact in lead.contacts:
        kind = contact.kind
        if kind not in CONTACT_KINDS:
            dropped["contact_kind"] += 1
            continue
        value = contact.value
        if kind in _PHONE_KINDS and find_cpfs(value):
            dropped["cpf"] += 1  # a CPF read as a phone number
            continue
        if ("f" in value or "F" in value) and _CPF_LABELLED.search(value):
            dropped["cpf"] += 1  # (the label's "f": see may_hold_cpf)
            continue
        source, why = _safe_url(contact.source_url)
        if why:
            contact.source_url = f"https://{_host(contact.source_url)}/"
            dropped["url_cpf"] += 1
        elif source is not None:
            contact.source_url = source
        details = contact.details
        if details:
            for key in set(details) - CONTACT_DETAIL_KEYS:
                del details[key]
                dropped["contact_detail"] += 1
            for key, detail in list(details.items()):
                if isinstance(detail, str):
                    cleaned, had = strip_cpf(detail)
                    if had:
                        details[key] = cleaned
                        dropped["cpf"] += 1
        kept.append(contact)
    lead.contacts = kept

    if lead.offers:
        offers = []
        for offer in lead.offers:
            url, why = _safe_url(offer.checkout_url)
            if why or url is None:
                dropped["offer_url"] += 1
                continue
            offer.checkout_url = url
            offer.product_name, had = strip_cpf(offer.product_name)
            dropped["cpf"] += int(had)
            if offer.seller_id and find_cpfs(offer.seller_id):
                offer.seller_id = None
                dropped["cpf"] += 1
            offers.append(offer)
        lead.offers = offers

    if lead.enrichment:
        for key in set(lead.enrichment) - ENRICHMENT_KEYS:
            del lead.enrichment[key]
            dropped["enrichment_key"] += 1
    return dropped


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "unknown").lower()
    except ValueError:
        return "unknown"


def allowlist() -> dict[str, Any]:
    """The declared allowlist, for the README and the access report."""
    return {
        "lead": list(LEAD_FIELDS),
        "contact_kinds": sorted(CONTACT_KINDS),
        "contact_details": sorted(CONTACT_DETAIL_KEYS),
        "enrichment": sorted(ENRICHMENT_KEYS),
    }
