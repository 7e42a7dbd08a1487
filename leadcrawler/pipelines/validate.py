"""Validate stage: mark each contact valid or invalid, and drop leads worth nothing.

Contacts. Every contact gets ``status`` ``valid`` or ``invalid``; an invalid one gets
``details["invalid_reason"]`` (short and machine-readable) and stays on the lead, because
its provenance is part of the record, but it counts for nothing below and is never
exported as a best contact. A contact the normalize stage could not normalise
(``normalized is None``) is always invalid.

- e-mail: :func:`leadcrawler.domain.emails.check_email` (syntax, special-use and documentation
  domains, IP literals, quoted local parts, ``logo@2x.png``, homoglyphs, unknown TLD).
- phone and WhatsApp: libphonenumber's ``is_valid_number`` (the number exists in its
  country's plan). Reasons from :func:`leadcrawler.domain.phones.phone_problem`, plus
  ``group_invite`` (``chat.whatsapp.com`` links) and ``no_number`` (other number-less links).
- social: valid when it has a canonical http(s) URL, else ``bad_url``.

CNPJ. A CNPJ whose check digits are wrong (or one character repeated, as in template
placeholders ``00.000.000/0000-00``) is removed from the lead: it identifies nobody and would
merge unrelated leads in the dedupe stage (stat ``leadcrawler/validate/cnpj_invalid``).

Drop rule. A lead is kept when it is identifiable or reachable:

- identifiable: a display name or a legal name, a valid CNPJ, or an own ``domain``
  (the normalize stage leaves ``domain`` None for platforms and social networks);
- reachable: at least one valid contact.

With ``VALIDATE_REQUIRE_CONTACT`` (raw-list imports set it) a name is not enough: a lead
needs a valid contact, a valid CNPJ or its own domain, else it is dropped as
``nothing_valid``.

Anything else is dropped with ``DropItem`` and counted under
``leadcrawler/validate/dropped/<reason>``: ``only_invalid_contacts`` when it had contacts
and none was valid, else ``no_identity``. Offers do not save a lead: a checkout URL with
no name says where something is sold, not by whom.

Settings: ``VALIDATE_ENABLED``, ``VALIDATE_REQUIRE_CONTACT``; ``NORMALIZE_DEFAULT_REGION``
(read so that a number the normalize stage could not parse is diagnosed the same way it
was parsed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import DropItem, NotConfigured

from leadcrawler.domain.emails import check_email
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead
from leadcrawler.domain.phones import phone_problem, whatsapp_phone_text
from leadcrawler.pipelines.normalize import phone_region

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _cnpj_check_digit(base: str) -> str:
    # Each character counts as its code point minus 48: digits as themselves, letters
    # A=17...Z=42 (the alphanumeric CNPJ rule, identical to the old one for digits).
    weights = _CNPJ_WEIGHTS[-len(base) :]
    total = sum((ord(char) - 48) * weight for char, weight in zip(base, weights, strict=True))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def is_valid_cnpj(cnpj: str) -> bool:
    """Whether a normalised 14-character CNPJ has correct check digits."""
    if len(cnpj) != 14 or not cnpj[12:].isdigit() or len(set(cnpj)) == 1:
        return False
    if not all(char.isdigit() or "A" <= char <= "Z" for char in cnpj[:12]):
        return False
    first = _cnpj_check_digit(cnpj[:12])
    second = _cnpj_check_digit(cnpj[:12] + first)
    return cnpj[12:] == first + second


def is_identifiable(lead: Lead) -> bool:
    return bool(lead.display_name or lead.legal_name or lead.cnpj or lead.domain)


def is_reachable(lead: Lead) -> bool:
    return any(contact.status == ContactStatus.VALID for contact in lead.contacts)


class ValidatePipeline:
    def __init__(
        self,
        stats: StatsCollector,
        default_region: str,
        repair_phones: bool = False,
        require_contact: bool = False,
    ) -> None:
        self.crawler: Crawler | None = None
        self.stats = stats
        self.default_region = default_region
        self.repair_phones = repair_phones
        self.require_contact = require_contact

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("VALIDATE_ENABLED"):
            raise NotConfigured("VALIDATE_ENABLED is off")
        assert crawler.stats is not None
        pipeline = cls(
            stats=crawler.stats,
            default_region=phone_region(settings),
            repair_phones=settings.getbool("NORMALIZE_PHONE_REPAIR"),
            require_contact=settings.getbool("VALIDATE_REQUIRE_CONTACT"),
        )
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        if item.cnpj and not is_valid_cnpj(item.cnpj):
            item.cnpj = None
            self.stats.inc_value("leadcrawler/validate/cnpj_invalid")
        for contact in item.contacts:
            reason = self.invalid_reason(contact)
            if reason is None:
                contact.status = ContactStatus.VALID
                contact.details.pop("invalid_reason", None)
                self.stats.inc_value(f"leadcrawler/validate/contact_valid/{contact.kind}")
            else:
                contact.status = ContactStatus.INVALID
                contact.details["invalid_reason"] = reason
                self.stats.inc_value(f"leadcrawler/validate/contact_invalid/{reason}")
        if self.require_contact and not (is_reachable(item) or item.cnpj or item.domain):
            self.stats.inc_value("leadcrawler/validate/dropped/nothing_valid")
            raise DropItem("nothing_valid: no valid e-mail, phone, profile, CNPJ or own site")
        if not (is_identifiable(item) or is_reachable(item)):
            reason = "only_invalid_contacts" if item.contacts else "no_identity"
            self.stats.inc_value(f"leadcrawler/validate/dropped/{reason}")
            raise DropItem(f"{reason}: no name, CNPJ, own domain or valid contact")
        self.stats.inc_value("leadcrawler/validate/passed")
        return item

    def invalid_reason(self, contact: ContactPoint) -> str | None:
        """Why ``contact`` is invalid, or None when it is valid."""
        if contact.kind == ContactKind.EMAIL:
            check = check_email(contact.normalized or contact.value)
            if not check.ok:
                return check.reason
        elif contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            if contact.normalized is not None:
                return phone_problem(
                    contact.normalized, self.default_region, repair=self.repair_phones
                )
            text: str | None = contact.value
            if contact.kind == ContactKind.WHATSAPP:
                text = whatsapp_phone_text(contact.value)
            if text is None:
                group = "chat.whatsapp.com" in contact.value.lower()
                return "group_invite" if group else "no_number"
            return (
                phone_problem(text, self.default_region, repair=self.repair_phones)
                or "not_normalized"
            )
        elif contact.kind == ContactKind.SOCIAL and contact.normalized is None:
            return "bad_url"
        if contact.normalized is None:
            return "not_normalized"
        return None
