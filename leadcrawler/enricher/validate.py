"""Validate step: mark each contact valid or invalid, and reject leads worth nothing.

Contacts. Every contact gets ``status`` ``valid`` or ``invalid``; an invalid one gets
``details["invalid_reason"]`` (short and machine-readable) and stays on the lead, because
its provenance is part of the record, but it counts for nothing below and is never
exported as a best contact. A contact the normalize step could not normalise
(``normalized is None``) is always invalid.

- e-mail: :func:`leadcrawler.domain.emails.check_email` (syntax, special-use and documentation
  domains, IP literals, quoted local parts, ``logo@2x.png``, homoglyphs, unknown TLD).
- phone and WhatsApp: libphonenumber's ``is_valid_number`` (the number exists in its
  country's plan). Reasons from :func:`leadcrawler.domain.phones.phone_problem`, plus
  ``group_invite`` (``chat.whatsapp.com`` links) and ``no_number`` (other number-less links).
- social: valid when it has a canonical http(s) URL, else ``bad_url``.

CNPJ. A CNPJ whose check digits are wrong (or one character repeated, as in template
placeholders ``00.000.000/0000-00``) is removed from the lead: it identifies nobody and would
merge unrelated leads in the dedupe step (stat ``leadcrawler/validate/cnpj_invalid``).

Reject rule. A lead is kept when it is identifiable or reachable:

- identifiable: a display name or a legal name, a valid CNPJ, or an own ``domain``
  (the normalize step leaves ``domain`` None for platforms and social networks);
- reachable: at least one valid contact.

Anything else is rejected and counted under ``leadcrawler/validate/dropped/<reason>``:
``only_invalid_contacts`` when it had contacts and none was valid, else ``no_identity``.
Offers do not save a lead: a checkout URL with no name says where something is sold, not
by whom.

With ``VALIDATE_REQUIRE_CONTACT`` (raw-list imports set it) a name is not enough: a lead
needs a valid contact, a valid CNPJ or its own domain, else it is rejected as
``nothing_valid``.

Settings: ``VALIDATE_ENABLED``, ``VALIDATE_REQUIRE_CONTACT``. Phone numbers are read with
the normalize step's :class:`~leadcrawler.domain.phones.PhoneRules`, so a number the
normalize step could not parse is diagnosed the way it was parsed.
"""

from __future__ import annotations

from leadcrawler.domain.cnpj import is_valid_cnpj
from leadcrawler.domain.emails import check_email
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead
from leadcrawler.domain.phones import PhoneReadings, PhoneRules, whatsapp_phone_text
from leadcrawler.enricher.config import Stats


def is_identifiable(lead: Lead) -> bool:
    return bool(lead.display_name or lead.legal_name or lead.cnpj or lead.domain)


def is_reachable(lead: Lead) -> bool:
    return any(contact.status == ContactStatus.VALID for contact in lead.contacts)


class Validator:
    def __init__(
        self,
        stats: Stats,
        phones: PhoneRules,
        readings: PhoneReadings | None = None,
        require_contact: bool = False,
    ) -> None:
        self.require_contact = require_contact
        self.stats = stats
        self.phones = phones
        self.readings = readings if readings is not None else PhoneReadings()

    def validate(self, lead: Lead) -> str | None:
        """Mark ``lead``'s contacts; the reason it is rejected, or None when it is kept."""
        if lead.cnpj and not is_valid_cnpj(lead.cnpj):
            lead.cnpj = None
            self.stats.inc_value("leadcrawler/validate/cnpj_invalid")
        for contact in lead.contacts:
            reason = self.invalid_reason(contact)
            if reason is None:
                contact.status = ContactStatus.VALID
                contact.details.pop("invalid_reason", None)
                self.stats.inc_value(f"leadcrawler/validate/contact_valid/{contact.kind}")
            else:
                contact.status = ContactStatus.INVALID
                contact.details["invalid_reason"] = reason
                self.stats.inc_value(f"leadcrawler/validate/contact_invalid/{reason}")
        if self.require_contact and not (is_reachable(lead) or lead.cnpj or lead.domain):
            self.stats.inc_value("leadcrawler/validate/dropped/nothing_valid")
            return "nothing_valid"
        if not (is_identifiable(lead) or is_reachable(lead)):
            reason = "only_invalid_contacts" if lead.contacts else "no_identity"
            self.stats.inc_value(f"leadcrawler/validate/dropped/{reason}")
            return reason
        self.stats.inc_value("leadcrawler/validate/passed")
        return None

    def invalid_reason(self, contact: ContactPoint) -> str | None:
        """Why ``contact`` is invalid, or None when it is valid."""
        if contact.kind == ContactKind.EMAIL:
            check = check_email(contact.normalized or contact.value)
            if not check.ok:
                return check.reason
        elif contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            if contact.normalized is not None:
                info = self.readings.get(contact.normalized)
                if info is not None:  # the normalize step's parse of this very number
                    return None if info.is_valid else "invalid_number"
                return self.phones.problem(contact.normalized)
            text: str | None = contact.value
            if contact.kind == ContactKind.WHATSAPP:
                text = whatsapp_phone_text(contact.value)
            if text is None:
                group = "chat.whatsapp.com" in contact.value.lower()
                return "group_invite" if group else "no_number"
            return self.phones.problem(text) or "not_normalized"
        elif contact.kind == ContactKind.SOCIAL and contact.normalized is None:
            return "bad_url"
        if contact.normalized is None:
            return "not_normalized"
        return None
