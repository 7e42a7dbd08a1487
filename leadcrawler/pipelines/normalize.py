"""Normalize stage: one canonical spelling for everything a spider put on a :class:`Lead`.

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
  keeps ``normalized=None``; the validate stage decides what that means.
- Offers' ``checkout_url``: canonical (a platform's checkout loses its whole query, where
  buyers' prefill data travels). An offer whose URL is not an http(s) URL is removed: the
  raw value may hold personal data and cannot be kept.
- Provenance URLs (``sighting.url``, contacts' ``source_url``) are canonicalised too, so
  that a buyer's ``?email=`` in a crawled URL is never stored.

Settings: ``NORMALIZE_ENABLED``, ``NORMALIZE_DEFAULT_REGION`` (ISO 3166 country assumed
for phone numbers written without ``+``).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import TYPE_CHECKING, Any, Self

import phonenumbers
from scrapy.exceptions import NotConfigured

from leadcrawler.domain.emails import normalize_email
from leadcrawler.domain.items import ContactKind, ContactPoint, Lead, Offer
from leadcrawler.domain.phones import normalize_phone, whatsapp_phone_text
from leadcrawler.domain.platforms import load_platforms, platform_for_url
from leadcrawler.domain.text import clean_text, strip_invisible
from leadcrawler.domain.urls import canonical_url, registered_domain

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Sites whose domain is shared by everyone who has a page there: a producer whose
# "website" is an Instagram profile or a link hub has no domain of their own.
SHARED_SITE_DOMAINS = frozenset(
    {
        "instagram.com", "facebook.com", "fb.com", "youtube.com", "youtu.be", "tiktok.com",
        "linkedin.com", "twitter.com", "x.com", "threads.net", "pinterest.com", "t.me",
        "telegram.me", "wa.me", "whatsapp.com", "linktr.ee", "beacons.ai", "bio.link",
        "google.com", "bit.ly",
    }
)  # fmt: skip

SELLER_ID_MAX_LENGTH = 100  # characters; platform ids are 7 to 28

# CNPJ: 12 base characters then 2 check digits. From July 2026 the base may hold capital
# letters (Receita Federal, IN RFB 2.229/2024); older ones are all digits.
_CNPJ_RE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")


def normalize_cnpj(raw: str | None) -> str | None:
    """The 14-character CNPJ in ``raw`` without punctuation, or None.

    ``"12.345.678/0001-95"`` and ``"CNPJ: 12.345.678/0001-95"`` -> ``"12345678000195"``.
    Check digits are the validate stage's business.
    """
    if not raw:
        return None
    text = strip_invisible(raw).upper()
    compact = re.sub(r"[^0-9A-Z]", "", text)
    if _CNPJ_RE.match(compact):
        return compact
    digits = re.sub(r"\D", "", text)  # a label around it: "CNPJ 12.345.678/0001-95"
    return digits if len(digits) == 14 else None


@cache
def _platform_domains() -> frozenset[str]:
    hosts = [h for p in load_platforms().values() for h in (*p.hosts, *p.private_hosts)]
    return frozenset(d for d in map(registered_domain, hosts) if d)


def own_domain(website: str | None) -> str | None:
    """The registered domain of ``website`` when it can be the producer's own site."""
    if not website or platform_for_url(website) is not None:
        return None
    domain = registered_domain(website)
    if domain in SHARED_SITE_DOMAINS or domain in _platform_domains():
        return None
    return domain


def phone_region(settings: BaseSettings) -> str:
    """``NORMALIZE_DEFAULT_REGION``, checked: the region of numbers written without +CC."""
    region = str(settings.get("NORMALIZE_DEFAULT_REGION") or "").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise NotConfigured(f"NORMALIZE_DEFAULT_REGION {region!r} is not a known region")
    return region


class NormalizePipeline:
    def __init__(
        self, stats: StatsCollector, default_region: str, repair_phones: bool = False
    ) -> None:
        self.crawler: Crawler | None = None
        self.stats = stats
        self.default_region = default_region
        self.repair_phones = repair_phones

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("NORMALIZE_ENABLED"):
            raise NotConfigured("NORMALIZE_ENABLED is off")
        assert crawler.stats is not None
        pipeline = cls(
            stats=crawler.stats,
            default_region=phone_region(settings),
            repair_phones=settings.getbool("NORMALIZE_PHONE_REPAIR"),
        )
        pipeline.crawler = crawler
        return pipeline

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Lead):
            return item
        self.normalize_lead(item)
        self.stats.inc_value("leadcrawler/normalize/leads")
        return item

    def normalize_lead(self, lead: Lead) -> None:
        lead.sighting.url = canonical_url(lead.sighting.url) or lead.sighting.url
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

    def normalize_contact(self, contact: ContactPoint) -> str | None:
        if contact.kind == ContactKind.EMAIL:
            return normalize_email(contact.value)
        if contact.kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
            text = (
                contact.value
                if contact.kind == ContactKind.PHONE
                else whatsapp_phone_text(contact.value)
            )
            info = (
                normalize_phone(text, self.default_region, repair=self.repair_phones)
                if text
                else None
            )
            if info is None:
                return None
            if info.repaired:
                # Provenance: the number was rewritten (e.g. a 9th digit added), not read as is.
                contact.details["repaired"] = info.repaired
                self.stats.inc_value(f"leadcrawler/normalize/phone_repaired/{info.repaired}")
            return info.e164
        if contact.kind == ContactKind.SOCIAL:
            return canonical_url(contact.value, assume_scheme="https")
        logger.warning("Unknown contact kind %r: left unnormalised", contact.kind)
        return None
