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


def to_lead(row: RawRow, source_name: str, seen_at: datetime) -> Lead | Reject:
    unreadable = [p for p in row.problems if p.startswith("unreadable")]
    if unreadable:
        return Reject(row.line, "unreadable", unreadable[0].partition(": ")[2])
    if not any(row.values.get(name) for name in REACHING_FIELDS):
        return Reject(
            row.line, "nothing_to_reach", "no e-mail, phone, WhatsApp, site, profile or CNPJ"
        )
    where = provenance(source_name, row.line)
    lead = Lead(
        sighting=Sighting(source=SOURCE, url=where, spider="intake", seen_at=seen_at),
        display_name=row.first("name"),
        legal_name=row.first("company"),
        cnpj=row.first("cnpj"),
        website=row.first("website"),
    )

    def add(kind: ContactKind, value: str) -> None:
        lead.contacts.append(
            ContactPoint(
                kind=kind,
                value=value,
                source_url=where,
                found_at=seen_at,
                method=METHOD,
                certainty=Certainty.CERTAIN,
            )
        )

    for value in row.values.get("email", []):
        add(ContactKind.EMAIL, value)
    for value in row.values.get("phone", []):
        add(ContactKind.PHONE, value)
    for value in row.values.get("whatsapp", []):
        add(ContactKind.WHATSAPP, value)
    for network in ("instagram", "facebook", "tiktok", "youtube", "linkedin", "social"):
        for value in row.values.get(network, []):
            url = profile_url(network, value)
            add(ContactKind.SOCIAL, url or value)  # the chain marks a non-URL invalid
    return lead
