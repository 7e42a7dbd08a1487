"""What page state says about its producer: the key vocabularies (seller, producer, author,
support e-mail, WhatsApp, price...), plausible names, values the platform owns, and
:func:`state_facts`, which reads them out of a decoded state.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from leadcrawler.domain.emails import EMAIL_IN_TEXT_RE
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.phones import is_whatsapp_link, whatsapp_phone_text
from leadcrawler.domain.platforms import load_platforms
from leadcrawler.domain.social import HANDLE_URLS, NETWORK_DOMAINS
from leadcrawler.domain.urls import is_platform_domain, registered_domain
from leadcrawler.extraction.prices import parse_brl, to_decimal
from leadcrawler.extraction.state import json_key, walk_json

logger = logging.getLogger(__name__)

WHITESPACE_RE = re.compile(r"\s+")

# --- What a page says about its producer -------------------------------------------------
#
# Platforms name their state keys as they like, so the state is read by what keys mean, not
# where they sit: a dict under a seller-like key ("producer", "seller", "owner"...) is the
# producer; "<seller-like>Name"/"<seller-like>Id" keys are flat versions of it; a product-
# like key ("product", "course", "group"...) holds the product; price keys the price.
# Contacts are taken only where the state says whose they are: inside the producer, or
# under a support/contact key (whose e-mail domain is not a platform's). Subtrees about
# the buyer (form, prefill, customer), the platform (config, i18n, footer) or other
# products (related, order bumps) are never entered.

PRODUCER_KEYS = frozenset(
    {
        "producer", "producers", "seller", "sellers", "author", "authors", "owner", "owners",
        "creator", "creators", "vendor", "merchant", "store", "infoproducer", "instructor",
        "instructors", "organizer", "expert", "produtor", "produtora", "produtores",
        "vendedor", "vendedora", "autor", "autora", "autores", "criador", "criadora",
    }
)  # fmt: skip
_PRODUCER_STEMS = tuple(sorted({key.removesuffix("s") for key in PRODUCER_KEYS}, key=len))
_NAME_SUFFIXES = ("name", "displayname", "fullname", "publicname", "nome")
PRODUCER_NAME_KEYS = frozenset(
    {stem + suffix for stem in _PRODUCER_STEMS for suffix in _NAME_SUFFIXES}
    | {f"nome{stem}" for stem in _PRODUCER_STEMS}
    | {f"nomedo{stem}" for stem in _PRODUCER_STEMS}
)
PRODUCER_ID_KEYS = frozenset(
    stem + suffix for stem in _PRODUCER_STEMS for suffix in ("id", "uid", "ucode", "code")
)
NAME_KEYS = (
    "name", "displayname", "publicname", "fullname", "nome", "nomecompleto", "nomefantasia",
    "tradename", "companyname", "nickname",
)  # fmt: skip
LEGAL_NAME_KEYS = ("legalname", "razaosocial", "corporatename", "registeredname")
ID_KEYS = ("ucode", "uid", "id", "userid", "sellerid", "producerid", "code")
CNPJ_KEYS = ("cnpj", "document", "documento", "documentnumber", "taxid")
WEBSITE_KEYS = frozenset({"website", "site", "siteurl", "websiteurl", "homepage"})

# Product-like keys, most specific first ("offer" and "item" may name a plan).
PRODUCT_KEYS = (
    "product", "produto", "course", "curso", "ebook", "group", "grupo", "community",
    "comunidade", "event", "evento", "offer", "oferta", "item",
)  # fmt: skip
PRODUCT_NAME_KEYS = frozenset(
    {key + suffix for key in PRODUCT_KEYS for suffix in ("name", "title", "nome", "titulo")}
    | {"nomedoproduto", "titulodoproduto"}
)
TITLE_KEYS = ("name", "title", "nome", "titulo")

PRICE_KEYS = frozenset(
    {
        "price", "saleprice", "offerprice", "finalprice", "fullprice", "currentprice",
        "totalprice", "preco", "precofinal", "valor", "amount",
    }
)  # fmt: skip
CENTS_KEYS = frozenset(
    {
        "priceincents", "pricecents", "amountincents", "amountcents", "valueincents",
        "totalincents", "precoemcentavos",
    }
)  # fmt: skip
_ALL_PRICE_KEYS = PRICE_KEYS | CENTS_KEYS
_PRICE_VALUE_KEYS = ("value", "amount", "current", "final", "sale", "valor", "price")
_CURRENCY_KEYS = ("currency", "currencycode", "moeda")
# Prices that are not the one paid in one go.
NOT_THE_PRICE = frozenset({"fee", "fees", "tax", "taxes", "precode"})
_NOT_THE_PRICE_STEMS = (
    "installment", "parcela", "coupon", "cupom", "discount", "desconto", "shipping", "frete",
    "oldprice", "originalprice", "fromprice", "listprice", "compareatprice", "previousprice",
    "precooriginal", "precoantigo",
)  # fmt: skip

# Subtrees never read: the buyer's data, the platform's own settings, other products, other
# people (affiliates, reviewers).
NOT_PRODUCER_DATA = frozenset(
    {
        "buyer", "customer", "payer", "client", "cliente", "comprador", "compradora", "user",
        "currentuser", "viewer", "me", "session", "auth", "account", "form", "formdata",
        "formvalues", "fields", "prefill", "initialvalues", "defaultvalues", "lead", "query",
        "searchparams", "billing", "address", "card", "creditcard", "config", "runtimeconfig",
        "publicruntimeconfig", "appconfig", "env", "i18n", "translations", "messages", "locale",
        "locales", "footer", "header", "navigation", "menu", "helpcenter", "platform",
        "tracking", "analytics", "pixels", "related", "relatedproducts", "recommendations",
        "recommended", "suggestions", "similar", "similarproducts", "orderbump", "orderbumps",
        "bump", "bumps", "upsell", "upsells", "downsell", "crosssell", "affiliate",
        "affiliates", "afiliado", "afiliados", "reviews", "review", "testimonials",
        "depoimentos", "comments", "comentarios", "avaliacoes", "ratings", "faq",
    }
)  # fmt: skip
_SUPPORT_WORDS = ("support", "suporte", "contact", "contato", "atendimento", "help", "ajuda")
_EMAIL_WORDS = ("email", "mail")
_WHATSAPP_WORDS = ("whatsapp", "whats", "wpp")
_PHONE_WORDS = ("phone", "telefone", "fone", "celular", "mobile")
SOCIAL_PROFILE_URLS = HANDLE_URLS
_SOCIAL_SUFFIXES = ("url", "link", "handle", "username", "user", "profile", "perfil")
SOCIAL_HOSTS = NETWORK_DOMAINS

# What may follow a seller-like stem in a contact key: "sellerEmail", "producerSupportPhone".
_WORDS_AFTER_STEM = (
    *_EMAIL_WORDS, *_WHATSAPP_WORDS, *_PHONE_WORDS, *_SUPPORT_WORDS, *SOCIAL_PROFILE_URLS,
)  # fmt: skip
_HANDLE_RE = re.compile(r"^@?([A-Za-z0-9._]{2,40})$")
_PHONE_TEXT_RE = re.compile(r"^[\d\s()+./-]{8,25}$")
_CNPJ_DIGITS = 14
MAX_PRICE = Decimal(1_000_000)  # BRL; above this a "price" is an id or a typo
CENT = Decimal("0.01")


@dataclass(slots=True)
class StateFacts:
    """What embedded page state says about the producer: raw values, best candidate first."""

    producers: list[str]
    legal_names: list[str]
    seller_ids: list[str]
    cnpjs: list[str]
    websites: list[str]
    products: list[str]
    prices: list[Decimal]
    contacts: list[tuple[ContactKind, str]]


def state_facts(state: Any) -> StateFacts:
    """Read producer, product, price, ids and contacts from any page-state JSON."""
    facts = StateFacts([], [], [], [], [], [], [], [])
    products: list[tuple[int, str]] = []
    for entry in walk_json(state, skip=NOT_PRODUCER_DATA):
        key = json_key(entry.key)
        context = [json_key(segment) for segment in entry.path]
        in_producer = any(segment in PRODUCER_KEYS for segment in context)
        value = entry.value
        if key in PRODUCER_KEYS and not in_producer:
            _read_producer(value, facts)
        elif key in PRODUCER_NAME_KEYS and isinstance(value, str):
            facts.producers.append(value)
        elif key in PRODUCER_ID_KEYS and isinstance(value, str | int):
            facts.seller_ids.append(str(value))
        elif key in PRODUCT_KEYS and not in_producer:
            name = value if isinstance(value, str) else _first_str(value, TITLE_KEYS)
            if name:
                products.append((PRODUCT_KEYS.index(key) + 1, name))
        elif key in PRODUCT_NAME_KEYS and isinstance(value, str) and not in_producer:
            products.append((0, value))
        elif key in _ALL_PRICE_KEYS and not in_producer and not _not_the_price(context):
            price = _state_price(key, value, entry.parent)
            if price is not None:
                facts.prices.append(price)
        if isinstance(value, str | int) and not isinstance(value, bool):
            _read_contact(key, str(value), context, in_producer, facts)
        # The producer's own site: a website key right on the producer.
        on_producer = bool(context) and context[-1] in PRODUCER_KEYS
        if on_producer and key in WEBSITE_KEYS and isinstance(value, str) and _is_own_site(value):
            facts.websites.append(value)
    facts.products = [name for _rank, name in sorted(products, key=lambda item: item[0])]
    return facts


def _not_the_price(context: list[str]) -> bool:
    return any(
        segment in NOT_THE_PRICE or any(stem in segment for stem in _NOT_THE_PRICE_STEMS)
        for segment in context
    )


def _first_str(container: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(container, list):
        container = next((item for item in container if isinstance(item, dict)), None)
    if not isinstance(container, dict):
        return None
    by_key = {json_key(str(k)): v for k, v in container.items()}
    for key in keys:
        value = by_key.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if key in ("id", "uid", "ucode", "userid") and isinstance(value, int):
            return str(value)
    return None


def _read_producer(value: Any, facts: StateFacts) -> None:
    if isinstance(value, str):
        facts.producers.append(value)
        return
    for found, keys in (
        (facts.producers, NAME_KEYS),
        (facts.legal_names, LEGAL_NAME_KEYS),
        (facts.seller_ids, ID_KEYS),
    ):
        text = _first_str(value, keys)
        if text:
            found.append(text)
    document = _first_str(value, CNPJ_KEYS)
    if document and len(re.sub(r"\D", "", document)) == _CNPJ_DIGITS:
        facts.cnpjs.append(document)


def _state_price(key: str, value: Any, parent: dict[str, Any]) -> Decimal | None:
    currency = _first_str(parent, _CURRENCY_KEYS)
    cents = key in CENTS_KEYS
    if isinstance(value, dict):
        currency = _first_str(value, _CURRENCY_KEYS) or currency
        by_key = {json_key(str(k)): v for k, v in value.items()}
        inner = next((by_key[k] for k in _PRICE_VALUE_KEYS if k in by_key), None)
        if inner is None:
            cents_key = next((k for k in by_key if k in CENTS_KEYS or k == "cents"), None)
            inner, cents = (by_key[cents_key], True) if cents_key else (None, cents)
        value = inner
    if currency and currency.strip().upper() != "BRL":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    amount = parse_brl(value) if isinstance(value, str) and "R$" in value else to_decimal(value)
    if amount is None:
        return None
    if cents:
        amount = amount / 100
    return amount.quantize(CENT) if Decimal(0) < amount < MAX_PRICE else None


def _contact_kind(key: str) -> ContactKind | None:
    if any(word in key for word in _EMAIL_WORDS):
        return ContactKind.EMAIL
    if any(word in key for word in _WHATSAPP_WORDS):
        return ContactKind.WHATSAPP
    if any(word in key for word in _PHONE_WORDS):
        return ContactKind.PHONE
    if _social_network(key) is not None:
        return ContactKind.SOCIAL
    return None


def _social_network(key: str) -> str | None:
    for network in SOCIAL_PROFILE_URLS:
        if key == network or any(key == network + suffix for suffix in _SOCIAL_SUFFIXES):
            return network
    return None


def _read_contact(
    key: str, value: str, context: list[str], in_producer: bool, facts: StateFacts
) -> None:
    text = value.strip()
    kind = _contact_kind(key)
    if kind is None and in_producer:
        kind = _kind_of_link(text)  # e.g. {"links": ["https://instagram.com/x"]}
    if kind is None or not text:
        return
    producer_key = any(
        key.startswith(stem) and key[len(stem) :].startswith(_WORDS_AFTER_STEM)
        for stem in _PRODUCER_STEMS
    )
    support = any(word in key or (context and word in context[-1]) for word in _SUPPORT_WORDS)
    in_product = any(segment in PRODUCT_KEYS for segment in context)
    if kind == ContactKind.EMAIL:
        trusted = in_producer or producer_key or support
    elif kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        trusted = in_producer or producer_key or (support and in_product)
    else:
        trusted = in_producer or producer_key
    if not trusted:
        return
    contact = _contact_value(kind, key, text)
    if contact is None:
        return
    if kind in (ContactKind.EMAIL, ContactKind.SOCIAL) and platform_owned(contact):
        return  # suporte@hub.la, instagram.com/hotmart: the platform's, not the producer's
    facts.contacts.append((kind, contact))


def _kind_of_link(text: str) -> ContactKind | None:
    if text.lower().startswith("mailto:"):
        return ContactKind.EMAIL
    if is_whatsapp_link(text):
        return ContactKind.WHATSAPP
    host = _host(text)
    if host and registered_domain(host) in SOCIAL_HOSTS:
        return ContactKind.SOCIAL
    return None


def _contact_value(kind: ContactKind, key: str, text: str) -> str | None:
    if kind == ContactKind.EMAIL:
        address = text[7:] if text.lower().startswith("mailto:") else text
        return address if EMAIL_IN_TEXT_RE.fullmatch(address.split("?", 1)[0]) else None
    if kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        if is_whatsapp_link(text):
            return text if whatsapp_phone_text(text) else None  # group invites have no number
        return text if _PHONE_TEXT_RE.match(text) and len(re.sub(r"\D", "", text)) >= 8 else None
    host = _host(text)
    if host:
        return text if registered_domain(host) in SOCIAL_HOSTS else None
    network = _social_network(key)
    handle = _HANDLE_RE.match(text)
    template = SOCIAL_PROFILE_URLS.get(network or "", "")
    return template.format(handle.group(1)) if handle and template else None


def _host(text: str) -> str | None:
    if "://" not in text and not text.lower().startswith("www."):
        return None
    try:
        return urlsplit(text if "://" in text else f"//{text}").hostname
    except ValueError:
        return None


def _is_own_site(text: str) -> bool:
    host = _host(text.strip())
    return bool(host) and registered_domain(host) not in SOCIAL_HOSTS and not platform_owned(text)


@cache
def _platform_words() -> frozenset[str]:
    platforms = load_platforms().values()
    return frozenset({p.key.casefold() for p in platforms} | {p.name.casefold() for p in platforms})


@cache
def _platform_words_re() -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _platform_words()))) + r")\b")


def mentions_platform(text: str) -> bool:
    """Whether ``text`` names a selling platform ("Suporte Hotmart", "Equipe Hubla")."""
    return bool(_platform_words_re().search(text.casefold()))


def platform_owned(value: str) -> bool:
    """Whether an e-mail address or URL belongs to a selling platform, not to a producer.

    ``suporte@hub.la``, ``ajuda@hotmart.com.br`` (a platform's name as the domain's label),
    ``https://help.kiwify.com.br/...``, ``https://instagram.com/hotmart``.
    """
    text = value.strip().lower().removeprefix("mailto:")
    if "@" in text and "://" not in text:
        host: str | None = text.split("?", 1)[0].rsplit("@", 1)[1]
    else:
        host = _host(text) or _host(f"https://{text}")
    domain = registered_domain(host) if host else None
    if not domain:
        return False
    if is_platform_domain(domain) or mentions_platform(domain.split(".", 1)[0]):
        return True
    if domain in SOCIAL_HOSTS:
        handle = urlsplit(text if "://" in text else f"//{text}").path.strip("/@").split("/")[0]
        return any(word in handle for word in _platform_words())
    return False


_NOT_NAMES = frozenset({"null", "undefined", "none", "n/a", "nome", "name", "produtor", "seller"})
_ID_LIKE_RE = re.compile(r"(?=.*\d)[A-Za-z0-9_-]{12,}")  # "axTmknuj64AX6VM2ewMu", a UUID


def plausible_name(value: Any) -> str | None:
    """``value`` when it can be a person's or company's name, else None.

    Not a platform ("Hotmart", "Equipe Hubla"), an address, a URL, markup, a placeholder,
    or a sentence (at most 12 words).
    """
    if not isinstance(value, str):
        return None
    text = WHITESPACE_RE.sub(" ", value).strip()
    if not 2 <= len(text) <= 120 or len(text.split()) > 12:
        return None
    if not any(char.isalpha() for char in text) or text.casefold() in _NOT_NAMES:
        return None
    if any(mark in text for mark in ("@", "://", "{", "}", "<", ">")) or mentions_platform(text):
        return None
    return None if _ID_LIKE_RE.fullmatch(text) else text


GENERIC_TITLES = frozenset(
    {
        "checkout", "pagamento", "pagamento seguro", "compra segura", "finalizar compra",
        "finalize sua compra", "finalize seu pedido", "carregando", "carregando...", "loading",
    }
)  # fmt: skip
_DASHES = "\u2013\u2014-"  # en dash, em dash, hyphen
_TITLE_SEPARATOR_RE = re.compile(rf"(\s+[|{_DASHES}]\s+|\s*\|\s*)")


def product_title(title: str | None) -> str | None:
    """A page title without the platform's part: "Curso X | Hotmart" -> "Curso X"."""
    if not title or not title.strip():
        return None
    pieces = _TITLE_SEPARATOR_RE.split(WHITESPACE_RE.sub(" ", title).strip())
    start, end = 0, len(pieces)  # even indexes are segments, odd ones separators

    def generic(segment: str) -> bool:
        return mentions_platform(segment) or segment.strip().casefold() in GENERIC_TITLES

    while start < end and generic(pieces[end - 1]):
        end -= 2
    while start < end and generic(pieces[start]):
        start += 2
    text = "".join(pieces[start:end]).strip()
    return text or None
