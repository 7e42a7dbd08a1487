"""Normalize step: one canonical spelling for everything a source put on a :class:`Lead`.

- ``display_name``, ``legal_name``, offers' ``product_name`` and ``seller_id``:
  :func:`leadcrawler.domain.text.clean_text` (invisible characters out, whitespace collapsed,
  at most 500 characters).
- ``cnpj``: the 14 characters without punctuation (:func:`normalize_cnpj`), else None.
- ``website``: :func:`leadcrawler.domain.urls.canonical_url` (``www.loja.com.br`` is read as
  ``https://``); a value that is not an http(s) URL (``javascript:...``) is removed.
  ``domain``: its registered domain, left None when the site is a selling platform or a
  social network / link hub: such a domain names the host, not the producer.
- Each contact's ``normalized``: the e-mail's normalised form, the phone or WhatsApp
  number in E.164, the social profile's canonical URL. A value that cannot be normalised
  keeps ``normalized=None``; the validate step decides what that means.
- Offers' ``checkout_url``: canonical (a platform's checkout loses its whole query, where
  buyers' prefill data travels). An offer whose URL is not an http(s) URL is removed: the
  raw value may hold personal data and cannot be kept.
- Provenance URLs (``sighting.url``, contacts' ``source_url``) are canonicalised too, so
  that a buyer's ``?email=`` in a crawled URL is never stored.

Settings (this step owns the ``NORMALIZE_`` prefix): ``NORMALIZE_ENABLED``,
``NORMALIZE_DEFAULT_REGION`` (ISO 3166 country assumed for phone numbers written without
``+``), ``NORMALIZE_PHONE_REPAIR``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from leadcrawler.domain.cnpj import normalize_cnpj
from leadcrawler.domain.emails import normalize_email
from leadcrawler.domain.items import ContactKind, ContactPoint, Lead, Offer
from leadcrawler.domain.phones import PhoneReadings, PhoneRules, whatsapp_phone_text
from leadcrawler.domain.text import clean_text
from leadcrawler.domain.urls import canonical_url, own_domain
from leadcrawler.enricher.config import ConfigError, Settings, Stats

logger = logging.getLogger(__name__)

SELLER_ID_MAX_LENGTH = 100  # characters; platform ids are 7 to 28


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    phones: PhoneRules

    @classmethod
    def from_settings(cls, settings: Settings) -> NormalizeConfig:
        try:
            phones = PhoneRules.checked(
                settings.get("NORMALIZE_DEFAULT_REGION"),
                settings.getbool("NORMALIZE_PHONE_REPAIR"),
            )
        except ValueError as exc:
            raise ConfigError(f"NORMALIZE_DEFAULT_REGION {exc}") from exc
        return cls(phones=phones)


class Normalizer:
    def __init__(
        self, stats: Stats, config: NormalizeConfig, readings: PhoneReadings | None = None
    ) -> None:
        self.stats = stats
        self.config = config
        self.readings = readings if readings is not None else PhoneReadings()

    def normalize(self, lead: Lead) -> Lead:
        sighting_url = lead.sighting.url
        lead.sighting.url = canonical_url(sighting_url) or sighting_url
        lead.display_name = clean_text(lead.display_name)
        lead.legal_name = clean_text(lead.legal_name)

        cnpj = normalize_cnpj(lead.cnpj)
        if lead.cnpj and cnpj is None:
            self.stats.inc_value("leadcrawler/normalize/dropped_field/cnpj")
        lead.cnpj = cnpj

        website = canonical_url(lead.website, assume_scheme="https")
        if lead.website and website is None:
            self.stats.inc_value("leadcrawler/normalize/dropped_field/website")
        lead.website = website
        lead.domain = own_domain(website)

        for contact in lead.contacts:
            if contact.source_url == sighting_url:  # usually: found where the lead was seen
                contact.source_url = lead.sighting.url  # canonical_url is a pure function
            else:
                contact.source_url = canonical_url(contact.source_url) or contact.source_url
            contact.normalized = self.normalize_contact(contact)
            if contact.normalized is None:
                self.stats.inc_value(f"leadcrawler/normalize/unnormalized/{contact.kind}")

        offers: list[Offer] = []
        for offer in lead.offers:
            checkout_url = canonical_url(offer.checkout_url, assume_scheme="https")
            if checkout_url is None:
                self.stats.inc_value("leadcrawler/normalize/dropped_offer/bad_checkout_url")
                continue
            offer.checkout_url = checkout_url
            offer.product_name = clean_text(offer.product_name)
            offer.seller_id = clean_text(offer.seller_id, max_length=SELLER_ID_MAX_LENGTH)
            offers.append(offer)
        lead.offers = offers
        self.stats.inc_value("leadcrawler/normalize/leads")
        return lead

    def normalize_contact(self, contact: ContactPoint) -> str | None:
        if contact.kind == ContactKind.EMAIL:
            return normalize_email(contact.value)
        if contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            text = (
                contact.value
                if contact.kind == ContactKind.PHONE
                else whatsapp_phone_text(contact.value)
            )
            info = self.config.phones.parse(text) if text else None
            if info is None:
                return None
            self.readings.record(info)  # validate and enrich read it: one parse per value
            if info.repaired:
                # Provenance: the number was rewritten (e.g. a 9th digit added), not read as is.
                contact.details["repaired"] = info.repaired
                self.stats.inc_value(f"leadcrawler/normalize/phone_repaired/{info.repaired}")
            return info.e164
        if contact.kind == ContactKind.SOCIAL:
            return canonical_url(contact.value, assume_scheme="https")
        logger.warning("Unknown contact kind %r: left unnormalised", contact.kind)
        return None
