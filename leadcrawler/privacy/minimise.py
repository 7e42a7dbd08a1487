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


def is_cpf(raw: str) -> bool:
    """True when ``raw`` holds 11 digits whose CPF check digits hold."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    values = [int(d) for d in digits]
    for size in (9, 10):
        total = sum(v * w for v, w in zip(values[:size], range(size + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if values[size] != check:
            return False
    return True


def find_cpfs(text: str) -> list[str]:
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
        return url if not find_cpfs(url) else None, "cpf" if find_cpfs(url) else None
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
    if lead.cnpj and is_cpf(lead.cnpj) and len(re.sub(r"\D", "", lead.cnpj)) == 11:
        lead.cnpj = None
        dropped["cpf"] += 1
    for attr in ("website",):
        url, why = _safe_url(getattr(lead, attr))
        if why:
            setattr(lead, attr, None)
            dropped[f"url_{why}"] += 1
        elif url is not None:
            setattr(lead, attr, url)
    sighting_url, why = _safe_url(lead.sighting.url)
    if why or sighting_url is None:
        lead.sighting.url = f"https://{_host(lead.sighting.url)}/"
        dropped["url_cpf"] += 1
    else:
        lead.sighting.url = sighting_url

    kept = []
    for contact in lead.contacts:
        if contact.kind not in CONTACT_KINDS:
            dropped["contact_kind"] += 1
            continue
        if contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP) and find_cpfs(contact.value):
            dropped["cpf"] += 1  # a CPF read as a phone number
            continue
        if _CPF_LABELLED.search(contact.value):
            dropped["cpf"] += 1
            continue
        source, why = _safe_url(contact.source_url)
        if why:
            contact.source_url = f"https://{_host(contact.source_url)}/"
            dropped["url_cpf"] += 1
        elif source is not None:
            contact.source_url = source
        extra = set(contact.details) - CONTACT_DETAIL_KEYS
        for key in extra:
            del contact.details[key]
            dropped["contact_detail"] += 1
        for key, value in list(contact.details.items()):
            if isinstance(value, str):
                cleaned, had = strip_cpf(value)
                if had:
                    contact.details[key] = cleaned
                    dropped["cpf"] += 1
        kept.append(contact)
    lead.contacts = kept

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
