"""Who a value names: identity keys of a person, and their keyed hashes.

The keys are the dedupe stage's (:mod:`leadcrawler.identity`): ``email:ana@x.com.br``,
``phone:+5511987654321``, ``social:instagram.com/ana``, ``cnpj:11222333000181``,
``checkout:https://pay.kiwify.com.br/Fn8kQ2z``, ``seller:kiwify:<id>`` and
``domain:anadoces.com.br`` (the producer's own site). Case and format variants give the
same key: ``Foo@GMAIL.com`` = ``foo@gmail.com``; ``(11) 91234-5678`` = ``+55 11 9
1234-5678``; ``https://www.Instagram.com/Ana/`` = ``instagram.com/ana``.

The suppression list stores ``HMAC-SHA256(pepper, key)`` only. A plain hash of an e-mail
is reversed by hashing a dictionary of addresses; without the secret pepper, the list
cannot be reversed or even tested against a guessed address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from leadcrawler.domain.emails import email_key, normalize_email
from leadcrawler.domain.identity import social_key
from leadcrawler.domain.items import ContactKind, Lead
from leadcrawler.domain.phones import normalize_phone, whatsapp_phone_text
from leadcrawler.domain.platforms import platform_for_url
from leadcrawler.domain.text import strip_invisible
from leadcrawler.domain.urls import canonical_url, registered_domain

KEY_KINDS = ("email", "phone", "social", "cnpj", "checkout", "seller", "domain")
_SELLER_RE = re.compile(r"^seller:[a-z0-9_-]+:\S+$")
_CNPJ_SHAPE = re.compile(r"^[0-9A-Za-z./\s-]+$")


def key_hash(pepper: bytes, key: str) -> str:
    """The suppression-list form of an identity key: keyed HMAC-SHA256, hex."""
    return hmac.new(pepper, key.encode("utf-8"), hashlib.sha256).hexdigest()


def key_kind(key: str) -> str:
    return key.split(":", 1)[0]


def cnpj_digits(raw: str) -> str | None:
    """The 14 characters of a CNPJ written any way, if its check digits hold."""
    compact = re.sub(r"[^0-9A-Z]", "", strip_invisible(raw).upper())
    if len(compact) != 14 or not compact[12:].isdigit():
        return None
    values = [ord(ch) - 48 for ch in compact]  # Receita's rule: digit value = ASCII - 48

    def check(body: list[int], weights: list[int]) -> int:
        rest = sum(v * w for v, w in zip(body, weights, strict=True)) % 11
        return 0 if rest < 2 else 11 - rest

    first = check(values[:12], [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    second = check(values[:13], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return compact if values[12] == first and values[13] == second else None


def email_identity(raw: str) -> str | None:
    text = strip_invisible(raw).strip().removeprefix("mailto:")
    if "@" not in text:
        return None
    return f"email:{email_key(normalize_email(text) or text)}"


def phone_identity(raw: str, region: str = "BR", whatsapp: bool = False) -> str | None:
    text = whatsapp_phone_text(raw) if whatsapp else raw
    info = normalize_phone(text, region, repair=True) if text else None
    return f"phone:{info.e164}" if info is not None else None


def url_identities(raw: str) -> list[str]:
    """Keys a URL names: a checkout (product page or short link), a profile, an own domain."""
    url = canonical_url(raw, assume_scheme="https")
    if url is None:
        return []
    platform = platform_for_url(url)
    if platform is not None:
        if platform.product_id(url):
            return [f"checkout:{platform.checkout_url(url)}"]
        return []
    social = social_key(url)
    if social:
        return [social]
    domain = registered_domain(url)
    return [f"domain:{domain}"] if domain else []


def subject_keys(value: str, region: str = "BR") -> list[str]:
    """The identity keys of what a data subject gives us: an e-mail, a phone in any
    format, a profile/checkout/site URL, a CNPJ, or ``seller:<platform>:<id>``.

    Empty when the value names nobody we could recognise.
    """
    text = strip_invisible(value).strip()
    if not text:
        return []
    if _SELLER_RE.match(text):
        return [text]
    if "@" in text and "/" not in text:
        key = email_identity(text)
        return [key] if key else []
    if _CNPJ_SHAPE.match(text):
        cnpj = cnpj_digits(text)
        if cnpj:
            return [f"cnpj:{cnpj}"]
    if "/" in text or text.lower().startswith(("http:", "https:", "www.")):
        return url_identities(text)
    phone = phone_identity(text, region)
    return [phone] if phone else []


def lead_suppression_keys(lead: Lead, region: str = "BR") -> list[str]:
    """Every key a sighting carries, computed from its raw values.

    Used before the chain has normalised or validated anything (a suppressed person is
    not visited) and again after: invalid-looking values count too, since a suppressed
    person must stay out however their address was written.
    """
    keys: list[str] = list(lead.identity_keys)
    if lead.cnpj:
        cnpj = cnpj_digits(lead.cnpj)
        if cnpj:
            keys.append(f"cnpj:{cnpj}")
    for contact in lead.contacts:
        keys.extend(contact_keys(contact.kind, contact.normalized or contact.value, region))
        if contact.normalized and contact.normalized != contact.value:
            keys.extend(contact_keys(contact.kind, contact.value, region))
    for offer in lead.offers:
        if offer.seller_id:
            keys.append(f"seller:{offer.platform}:{strip_invisible(offer.seller_id).strip()}")
        keys.extend(url_identities(offer.checkout_url) or [f"checkout:{offer.checkout_url}"])
    if lead.domain:
        keys.append(f"domain:{lead.domain}")
    elif lead.website:
        keys.extend(k for k in url_identities(lead.website) if k.startswith("domain:"))
    return list(dict.fromkeys(k for k in keys if k))


def contact_keys(kind: str, value: str, region: str = "BR") -> list[str]:
    if kind == ContactKind.EMAIL:
        key = email_identity(value)
    elif kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        key = phone_identity(value, region, whatsapp=kind == ContactKind.WHATSAPP)
        if key is None and kind == ContactKind.WHATSAPP:
            key = phone_identity(value, region)
    elif kind == ContactKind.SOCIAL:
        return [k for k in url_identities(value) if k.startswith("social:")]
    else:
        key = None
    return [key] if key else []


def hashes(pepper: bytes, keys: Iterable[str]) -> list[str]:
    return [key_hash(pepper, key) for key in dict.fromkeys(keys)]
