"""One raw record -> one :class:`Lead` for the chain, or the reason it is rejected.

A record needs something that identifies or reaches someone: an e-mail, a phone or
WhatsApp number, a website, a social profile or a CNPJ. A name alone is not a lead.
Whether those values are *valid* is the chain's business (normalize and validate, as for
a crawl); records the chain drops are rejected with the chain's reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead, Sighting
from leadcrawler.domain.social import HANDLE_URLS
from leadcrawler.intake.reader import RawRow

SOURCE = "import"
METHOD = "import"
REACHING_FIELDS = (
    "email", "phone", "whatsapp", "website", "instagram", "facebook", "tiktok", "youtube",
    "linkedin", "social", "cnpj",
)  # fmt: skip

# A handle in a network's column -> its profile URL (domain/social.py's templates). A list's
# LinkedIn column names a person, so a bare handle there is taken as /in/<handle>.
PROFILE_URLS = {
    **{network: HANDLE_URLS[network] for network in ("instagram", "facebook", "tiktok", "youtube")},
    "linkedin": "https://www.linkedin.com/in/{}",
}
_HANDLE_RE = re.compile(r"^@?([A-Za-z0-9_.\-]{1,60})$")


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    reason: str  # short, machine-readable
    detail: str = ""


def provenance(source_name: str, line: int) -> str:
    return f"{SOURCE}:{source_name}#{line}"


def line_of(url: str) -> int | None:
    """The line in an ``import:<file>#<line>`` provenance, else None."""
    if not url.startswith(f"{SOURCE}:"):
        return None
    _, _, number = url.rpartition("#")
    return int(number) if number.isdigit() else None


def profile_url(network: str, value: str) -> str | None:
    """``@anadoces`` or ``anadoces`` on Instagram -> its profile URL; URLs pass unchanged."""
    text = value.strip()
    if "/" in text or text.lower().startswith("www."):
        return text  # a URL: the normalize stage canonicalises it
    match = _HANDLE_RE.match(text)
    if network not in PROFILE_URLS or match is None:
        return None
    return PROFILE_URLS[network].format(match.group(1))


_REACHING = frozenset(REACHING_FIELDS)
_CONTACT_COLUMNS = (
    ("email", ContactKind.EMAIL),
    ("phone", ContactKind.PHONE),
    ("whatsapp", ContactKind.WHATSAPP),
)
_PROFILE_COLUMNS = ("instagram", "facebook", "tiktok", "youtube", "linkedin", "social")
_PROFILE_SET = frozenset(_PROFILE_COLUMNS)


def to_lead(row: RawRow, source_name: str, seen_at: datetime) -> Lead | Reject:
    values = row.values
    if row.problems:
        unreadable = [p for p in row.problems if p.startswith("unreadable")]
        if unreadable:
            return Reject(row.line, "unreadable", unreadable[0].partition(": ")[2])
    for name, found in values.items():
        if found and name in _REACHING:
            break
    else:
        return Reject(
            row.line, "nothing_to_reach", "no e-mail, phone, WhatsApp, site, profile or CNPJ"
        )
    where = provenance(source_name, row.line)

    def first(name: str) -> str | None:
        found = values.get(name)
        return found[0] if found else None

    contacts: list[ContactPoint] = []
    for name, kind in _CONTACT_COLUMNS:
        for value in values.get(name, ()):
            contacts.append(ContactPoint(kind, value, where, seen_at, METHOD, Certainty.CERTAIN))
    for network in _PROFILE_COLUMNS if not _PROFILE_SET.isdisjoint(values) else ():
        for value in values.get(network, ()):
            url = profile_url(network, value)
            # The chain marks a non-URL invalid.
            contacts.append(
                ContactPoint(
                    ContactKind.SOCIAL, url or value, where, seen_at, METHOD, Certainty.CERTAIN
                )
            )
    # Positional (sighting, display_name, legal_name, cnpj, website, domain, contacts):
    # keywords cost a lead more than its whole construction.
    return Lead(
        Sighting(SOURCE, where, "intake", seen_at),
        first("name"),
        first("company"),
        first("cnpj"),
        first("website"),
        None,
        contacts,
    )
