"""Page-reading helpers shared by the source spiders: the rungs of the extraction ladder.

1. structured data: ``og:*``/``twitter:*`` meta and JSON-LD;
2. embedded state JSON: Next.js ``__NEXT_DATA__`` and app-router ``self.__next_f`` rows,
   Nuxt 3 ``__NUXT_DATA__`` (a devalue payload, revived without evaluating anything) and
   Nuxt 2 ``window.__NUXT__`` when it is plain JSON; :func:`find_values` and
   :func:`state_facts` search that state by what its keys mean, bounded in depth and size;
3. visible-text patterns (the "em nome de" footer, "Vendido por", "Autor:", BRL prices,
   contact links in the page's content).

:func:`read_product_page` climbs the whole ladder for platforms whose pages are
JavaScript applications (Hubla, Hotmart). Helpers return raw strings; cleaning belongs to
the normalize stage. Reads no settings.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead, Offer, Sighting
from leadcrawler.domain.phones import is_whatsapp_link, whatsapp_phone_text
from leadcrawler.domain.platforms import load_platforms
from leadcrawler.domain.urls import registered_domain
from leadcrawler.extraction.contacts import is_platform_domain

logger = logging.getLogger(__name__)

WHITESPACE_RE = re.compile(r"\s+")
# "R$ 1.497,00", "R$97", "R$ 19,90"; the thousands separator is "." and decimals ",".
PRICE_RE = re.compile(r"R\$\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{2}))?")
INSTALMENT_RE = re.compile(r"\d{1,2}\s*x\s*(?:de\s*)?$", re.IGNORECASE)
# "De R$ 147,00 por R$ 97,00": the first amount is the old price.
OLD_PRICE_BEFORE_RE = re.compile(r"\bde\s*$", re.IGNORECASE)
OLD_PRICE_AFTER_RE = re.compile(r"^\s*(?:,\s*)?(?:por|agora)\b", re.IGNORECASE)


def meta(response: TextResponse, *names: str) -> str | None:
    """The first non-empty ``<meta property|name=...>`` content among ``names``."""
    for name in names:
        value = response.xpath("//meta[@property=$n or @name=$n]/@content", n=name).get()
        if value and value.strip():
            return value.strip()
    return None


def json_ld(response: TextResponse) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page (``@graph`` and lists flattened); bad JSON skipped."""
    for raw in response.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            logger.debug("Skipping malformed JSON-LD on %s", response.url)
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if not isinstance(node, dict):
                continue
            graph = node.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)
            yield node


def ld_type_is(node: dict[str, Any], wanted: str) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return wanted in kinds


def ld_name(value: Any) -> str | None:
    """``"X"`` or ``{"name": "X"}`` (a Person/Organization) -> ``"X"``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"] or None
    if isinstance(value, list) and value:
        return ld_name(value[0])
    return None


HIDDEN = ("script", "style", "noscript", "template")
STRUCK = ("s", "del", "strike")  # struck-out text: an old price, not the one paid


def visible_text(response: TextResponse, skip: tuple[str, ...] = ()) -> str:
    """The page's text as a reader sees it: no scripts, styles or templates, spaces collapsed.

    ``skip`` names more elements whose text is left out (e.g. :data:`STRUCK`).
    """
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in (*HIDDEN, *skip))
    parts = response.xpath(f"//body//text()[{excluded}]").getall()
    return WHITESPACE_RE.sub(" ", " ".join(parts)).strip()


def parse_brl(text: str) -> Decimal | None:
    """The first BRL amount in ``text`` (``R$ 1.497,00`` -> ``1497.00``)."""
    match = PRICE_RE.search(text)
    return _amount(match) if match else None


def to_decimal(value: Any) -> Decimal | None:
    """A JSON price (``97``, ``"97.00"``, ``"97,00"``) as a Decimal, or None."""
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _amount(match: re.Match[str]) -> Decimal | None:
    try:
        return Decimal(f"{match.group(1).replace('.', '')}.{match.group(2) or '00'}")
    except InvalidOperation:
        return None


def page_price(text: str) -> Decimal | None:
    """The price a buyer pays in one go: "à vista" first, else the first non-instalment amount."""
    cash: Decimal | None = None
    first: Decimal | None = None
    for match in PRICE_RE.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        if INSTALMENT_RE.search(before):
            continue  # "12x de R$ 19,90" is an instalment, not the price
        if OLD_PRICE_BEFORE_RE.search(before) and OLD_PRICE_AFTER_RE.search(
            text[match.end() : match.end() + 12]
        ):
            continue  # "De R$ 147,00 por ..." is the old price
        amount = _amount(match)
        if amount is None:
            continue
        if first is None:
            first = amount
        following = text[match.end() : match.end() + 12].lower()
        if cash is None and ("à vista" in following or "a vista" in following):
            cash = amount
    return cash if cash is not None else first


# --- Rung 2: embedded state JSON ---------------------------------------------------------
#
# JS applications ship the page's data inside the HTML for hydration: Next.js in
# ``<script id="__NEXT_DATA__">`` (pages router) or in ``self.__next_f.push(...)`` chunks
# (app router, React Server Components), Nuxt 3 in ``<script id="__NUXT_DATA__">`` (a
# "devalue" payload), Nuxt 2 in ``window.__NUXT__``. The readers below return plain JSON
# values (dicts, lists, scalars) or None; :func:`walk_json` and :func:`find_values` search
# them by key name, bounded, whatever their shape.

MAX_STATE_CHARS = 8_000_000  # characters of one state script; a bigger one is skipped
MAX_JSON_DEPTH = 64  # nesting levels revived or walked; deeper values are left out
MAX_JSON_NODES = 100_000  # dict entries and list items one walk visits at most

# devalue's negative references: undefined, array hole, NaN, +inf, -inf, -0.
_DEVALUE_CONSTANTS: dict[int, Any] = {-1: None, -2: None, -3: None, -4: None, -5: None, -6: 0}
# devalue tags whose payload (the rest of the array) is literal, not references.
_DEVALUE_LITERAL_TAGS = frozenset({"Date", "RegExp", "BigInt", "URL", "URLSearchParams"})
_FLIGHT_PUSH_RE = re.compile(r"self\.__next_f\.push\(\s*(\[.*\])\s*\)\s*;?\s*$", re.DOTALL)
_FLIGHT_ROW_RE = re.compile(r"^[0-9a-fA-F]+:(?=[\[{])")
_WINDOW_NUXT_RE = re.compile(r"window\.__NUXT__\s*=\s*")


def _loads(raw: str, where: str, url: str) -> Any | None:
    if len(raw) > MAX_STATE_CHARS:
        logger.debug("Skipping %s on %s: %d characters", where, url, len(raw))
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        logger.debug("Skipping malformed %s on %s", where, url)
        return None


def _script_by_id(response: TextResponse, script_id: str) -> str | None:
    raw = response.xpath("//script[@id=$i]/text()", i=script_id).get()
    return raw.strip() if raw and raw.strip() else None


def next_data(response: TextResponse) -> dict[str, Any] | None:
    """The Next.js page state (``<script id="__NEXT_DATA__">``), or None."""
    raw = _script_by_id(response, "__NEXT_DATA__")
    data = _loads(raw, "__NEXT_DATA__", response.url) if raw else None
    return data if isinstance(data, dict) else None


def nuxt_data(response: TextResponse) -> Any | None:
    """The Nuxt 3 page state (``<script id="__NUXT_DATA__">``) revived, or None."""
    raw = _script_by_id(response, "__NUXT_DATA__")
    payload = _loads(raw, "__NUXT_DATA__", response.url) if raw else None
    if isinstance(payload, list):
        return revive_nuxt(payload)
    return payload if isinstance(payload, dict) else None


def window_nuxt(response: TextResponse) -> dict[str, Any] | None:
    """Nuxt 2's ``window.__NUXT__ = {...}`` when it is a JSON literal, else None.

    Nuxt 2 usually writes it as a JavaScript function call (``(function(a,b){...}(1,2))``);
    that form would need a JavaScript engine and is left to the rendering rung.
    """
    for script in response.xpath("//script[not(@src)]/text()").getall():
        match = _WINDOW_NUXT_RE.search(script)
        if not match or len(script) > MAX_STATE_CHARS:
            continue
        try:
            data, _end = json.JSONDecoder().raw_decode(script, match.end())
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None
    return None


def next_flight(response: TextResponse) -> list[Any] | None:
    """The JSON rows of a Next.js app-router page (``self.__next_f.push([1, "..."])``).

    The pushed strings concatenate into React Server Component rows, ``<hex id>:<payload>``
    one per line; the rows whose payload is JSON (component trees with their props, where
    the page's data travels) are returned, the others (module and style references, raw
    text) are skipped. None when the page has no such rows.
    """
    chunks: list[str] = []
    size = 0
    for script in response.xpath("//script[not(@src)]/text()").getall():
        match = _FLIGHT_PUSH_RE.search(script.strip())
        if not match:
            continue
        pushed = _loads(match.group(1), "self.__next_f chunk", response.url)
        if isinstance(pushed, list) and len(pushed) > 1 and pushed[0] == 1:
            text = pushed[1]
            if not isinstance(text, str):
                continue
            size += len(text)
            if size > MAX_STATE_CHARS:
                break
            chunks.append(text)
    rows: list[Any] = []
    for line in "".join(chunks).splitlines():
        match = _FLIGHT_ROW_RE.match(line)
        if match:
            row = _loads(line[match.end() :], "flight row", response.url)
            if isinstance(row, dict | list):
                rows.append(row)
    return rows or None


def revive_nuxt(payload: Any) -> Any:
    """Resolve a Nuxt 3 / devalue payload into plain JSON values.

    The payload is a flat array: entry 0 is the root; in objects and plain arrays every
    value is an integer index into the array (negative ones are constants such as
    ``undefined``); an array starting with a string is a tagged value (``["Reactive", 3]``,
    ``["Set", 4, 5]``, ``["Map", k, v]``, ``["Date", "2024-..."]``, ``["null", k, v]``).
    Shared references are revived once and shared; a reference back into a value being
    revived (a cycle) and anything nested deeper than :data:`MAX_JSON_DEPTH` become None.
    Nothing is evaluated. Returns None when ``payload`` is not a non-empty list.
    """
    if not isinstance(payload, list) or not payload:
        return None
    values: list[Any] = payload
    revived: dict[int, Any] = {}
    in_progress: set[int] = set()

    def ref(index: Any, depth: int) -> Any:
        if isinstance(index, bool) or not isinstance(index, int):
            return None
        if index < 0:
            return _DEVALUE_CONSTANTS.get(index)
        if index >= len(values) or index in in_progress or depth > MAX_JSON_DEPTH:
            return None
        if index in revived:
            return revived[index]
        in_progress.add(index)
        try:
            value = entry(values[index], depth)
        finally:
            in_progress.discard(index)
        revived[index] = value
        return value

    def entry(value: Any, depth: int) -> Any:
        if isinstance(value, dict):
            return {str(key): ref(item, depth + 1) for key, item in value.items()}
        if not isinstance(value, list):
            return value  # a string, number, boolean or null stands for itself
        if not value or not isinstance(value[0], str):
            return [ref(item, depth + 1) for item in value]
        tag, rest = value[0], value[1:]
        if tag in _DEVALUE_LITERAL_TAGS:
            return rest[0] if rest and isinstance(rest[0], str | int | float) else None
        if tag == "Set":
            return [ref(item, depth + 1) for item in rest]
        if tag in ("Map", "null"):
            # Map: [key ref, value ref, ...]; "null" (prototype-less object): [key, value ref, ...]
            pairs = zip(rest[::2], rest[1::2], strict=False)
            if tag == "Map":
                return {str(ref(k, depth + 1)): ref(v, depth + 1) for k, v in pairs}
            return {str(k): ref(v, depth + 1) for k, v in pairs}
        # Custom reducers (Nuxt's Reactive, ShallowReactive, Ref, ShallowRef, EmptyRef,
        # NuxtError, Island...) wrap one referenced value.
        return ref(rest[0], depth + 1) if len(rest) == 1 else None

    return ref(0, 0)


_NOT_KEY_CHARS_RE = re.compile(r"[\W_]+")


def json_key(key: str) -> str:
    """A key as compared by :func:`find_values`: ``support_email``, ``supportEmail``
    and ``Support-Email`` are all ``supportemail``."""
    return _NOT_KEY_CHARS_RE.sub("", key).casefold()


@dataclass(frozen=True, slots=True)
class JsonEntry:
    """One ``key: value`` of a dict met by :func:`walk_json`."""

    path: tuple[str, ...]  # the dict keys from the root down to ``parent`` (list indexes left out)
    key: str
    value: Any
    parent: dict[str, Any]


def walk_json(
    obj: Any,
    *,
    skip: Iterable[str] = (),
    max_depth: int = MAX_JSON_DEPTH,
    max_nodes: int = MAX_JSON_NODES,
) -> Iterator[JsonEntry]:
    """Every dict entry nested in ``obj``, breadth first: shallow entries come first.

    The subtrees under keys in ``skip`` (compared with :func:`json_key`) are not entered.
    Bounded by ``max_depth`` levels and ``max_nodes`` visited entries; a container met
    twice (shared or cyclic references) is walked once.
    """
    if not isinstance(obj, dict | list):
        return
    skipped = {json_key(key) for key in skip}
    queue: deque[tuple[tuple[str, ...], Any, int]] = deque([((), obj, 0)])
    seen: set[int] = set()
    budget = max_nodes
    while queue:
        path, node, depth = queue.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            items: Iterable[tuple[Any, Any]] = node.items()
        else:
            items = ((None, item) for item in node)
        for key, value in items:
            budget -= 1
            if budget < 0:
                return
            child_path = path
            if key is not None:
                key = str(key)
                yield JsonEntry(path, key, value, node)
                if json_key(key) in skipped:
                    continue
                child_path = (*path, key)
            if isinstance(value, dict | list) and value and depth < max_depth:
                queue.append((child_path, value, depth + 1))


def find_values(
    obj: Any, keys: Iterable[str], *, skip: Iterable[str] = ()
) -> Iterator[tuple[str, Any]]:
    """``(key, value)`` for every entry of the JSON ``obj`` whose key is in ``keys``.

    Keys compare with :func:`json_key` (case, ``_`` and ``-`` ignored), so ``{"email"}``
    finds ``"Email"`` and ``{"supportEmail"}`` finds ``"support_email"``. Shallow entries
    come first; ``skip`` and the bounds are those of :func:`walk_json`.
    """
    wanted = {json_key(key) for key in keys}
    for entry in walk_json(obj, skip=skip):
        if json_key(entry.key) in wanted:
            yield entry.key, entry.value


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
# A network's key in page state -> how a bare handle there becomes a profile URL.
SOCIAL_PROFILE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
    "facebook": "https://www.facebook.com/{}",
    "twitter": "https://x.com/{}",
    "x": "https://x.com/{}",
    "telegram": "https://t.me/{}",
    "linkedin": "",  # handles need /in/ or /company/: URLs only
}
_SOCIAL_SUFFIXES = ("url", "link", "handle", "username", "user", "profile", "perfil")
SOCIAL_HOSTS = frozenset(
    {
        "instagram.com", "facebook.com", "fb.com", "youtube.com", "tiktok.com", "x.com",
        "twitter.com", "t.me", "linkedin.com", "linktr.ee",
    }
)  # fmt: skip

# What may follow a seller-like stem in a contact key: "sellerEmail", "producerSupportPhone".
_WORDS_AFTER_STEM = (
    *_EMAIL_WORDS, *_WHATSAPP_WORDS, *_PHONE_WORDS, *_SUPPORT_WORDS, *SOCIAL_PROFILE_URLS,
)  # fmt: skip
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
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
        return address if EMAIL_RE.fullmatch(address.split("?", 1)[0]) else None
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


# --- Rung 3 helpers: labelled names and contact links in the rendered text -----------------

NOT_READ = ("form", "select", "option", "textarea", "button")  # buyer inputs and controls
# Page chrome: the platform's header, menus, footer, cookie banners and dialogs.
_CHROME = ("footer", "nav", "header", "form", "aside")
_CHROME_ROLES = ("contentinfo", "navigation", "banner", "dialog", "alertdialog")
_CHROME_NAMES = ("footer", "cookie", "navbar", "topbar")  # in class or id, for <div> chrome
# "Vendido por X", "oferecido por X", "em nome de X": the label may sit mid-sentence.
_BY_LABEL_RE = re.compile(
    r"\b(?:(?:vendido|oferecido|criado|produzido|ministrado|apresentado|publicado)\s+por"
    r"|em\s+nome\s+de)\b\s*:?\s*",
    re.IGNORECASE,
)
# "Produtor: X", "Autor - X", or the label alone with the name in the next text node.
_ROLE_LABEL_RE = re.compile(
    r"^(?:produtor|produtora|autor|autora|autores|criador|criadora|vendedor|vendedora"
    r"|instrutor|instrutora|professor|professora|mentor|mentora)(?:\s*\(a\))?"
    rf"(?:\s*[:{_DASHES}]\s*|\s*:?\s*$)",
    re.IGNORECASE,
)
# Where a name in running text ends: punctuation, "(", " - ", the next clause. A full stop
# ends it only after a word of 4+ letters, so "Dra. Ana" and "Marcos V. Teixeira" stay whole.
_NAME_END_RE = re.compile(
    rf"\s*(?:[|\u2022\u00b7;:()\[\]]|\s[{_DASHES}]\s|,\s|(?<=\w{{4}})[.!?](?:\s|$)|\s+e\s+que\b"
    r"|\s+CNPJ\b|\s+CPF\b|\s+-\s*$)"
)
_SUPPORT_CUE_RE = re.compile(
    r"suporte|contato|d[úu]vidas?|atendimento|fale\s+com|escreva|e-?mail\s+d[oa]\s+"
    r"(?:produtor|autor|vendedor|criador)",
    re.IGNORECASE,
)


def text_nodes(response: TextResponse, skip: tuple[str, ...] = NOT_READ) -> list[str]:
    """The page's visible text nodes in order, spaces collapsed, empty ones left out."""
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in (*HIDDEN, *skip))
    texts = response.xpath(f"//body//text()[{excluded}]").getall()
    return [node for node in (WHITESPACE_RE.sub(" ", t).strip() for t in texts) if node]


@cache
def _content_only() -> str:
    """An XPath predicate: the node is outside the page's chrome."""
    tags = " or ".join(f"ancestor::{tag}" for tag in _CHROME)
    roles = " or ".join(f"@role='{role}'" for role in _CHROME_ROLES)
    names = " or ".join(
        f"contains(translate(@{attr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
        f" '{name}')"
        for attr in ("class", "id")
        for name in _CHROME_NAMES
    )
    return f"not({tags} or ancestor-or-self::*[{roles} or {names}])"


def labelled_name(nodes: Iterable[str]) -> str | None:
    """The name after a seller label in text nodes ("Vendido por X", "Autor: X")."""
    items = list(nodes)
    for index, node in enumerate(items):
        rests = [node[m.end() :] for m in _BY_LABEL_RE.finditer(node)]
        role = _ROLE_LABEL_RE.match(node)
        if role:
            rests.append(node[role.end() :])
        for rest in rests:
            if not rest.strip() and index + 1 < len(items):
                rest = items[index + 1]
            name = _name_in(rest)
            if name:
                return name
    return None


def _name_in(text: str) -> str | None:
    name = _NAME_END_RE.split(text.strip(), maxsplit=1)[0].strip().rstrip(".!?,:;")
    letters = [char for char in name if char.isalpha()]
    if not letters or not (letters[0].isupper() or name[0].isdigit()):
        return None  # running text ("do curso", "quem comprou"), not a name
    return plausible_name(name)


def link_contacts(response: TextResponse) -> Iterator[tuple[ContactKind, str, str]]:
    """``(kind, value, method)`` for ``mailto:`` and WhatsApp links in the page's content.

    Links in the header, menus, footer, forms and dialogs are the platform's; so is any
    link whose text names a platform ("Suporte Hubla") or whose address is a platform's.
    """
    for link in response.xpath(f"//body//a[@href][{_content_only()}]"):
        href = (link.attrib.get("href") or "").strip()
        around = " ".join(link.xpath("..//text()").getall())
        if href.lower().startswith("mailto:"):
            address = href[7:].split("?", 1)[0]
            if EMAIL_RE.fullmatch(address) and not platform_owned(address):
                yield ContactKind.EMAIL, href, "mailto"
        elif is_whatsapp_link(href) and whatsapp_phone_text(href) and not mentions_platform(around):
            yield ContactKind.WHATSAPP, href, "whatsapp_link"


def text_emails(response: TextResponse) -> Iterator[str]:
    """E-mail addresses written in the page's content next to a support/contact cue."""
    excluded = " and ".join(f"not(ancestor::{tag})" for tag in HIDDEN)
    nodes = [
        WHITESPACE_RE.sub(" ", t).strip()
        for t in response.xpath(f"//body//text()[{excluded} and {_content_only()}]").getall()
    ]
    nodes = [node for node in nodes if node]
    for index, node in enumerate(nodes):
        for match in EMAIL_RE.finditer(node):
            address = match.group().rstrip(".")
            # The cue is in the same sentence, or just before an address standing alone
            # ("<span>Suporte:</span> <a>x@y</a>").
            alone = not node.replace(match.group(), "").strip(" .,:;-")
            around = nodes[index - 1] if alone and index else node
            if _SUPPORT_CUE_RE.search(around) and not platform_owned(address):
                yield address


# --- The whole ladder, for platforms whose pages are JavaScript applications ---------------

STATE_READERS: dict[str, Callable[[TextResponse], Any]] = {
    "next_data": next_data,
    "next_flight": next_flight,
    "nuxt_data": nuxt_data,
    "window_nuxt": window_nuxt,
}
_STATE_SCRIPT_IDS = {"next_data": "__NEXT_DATA__", "nuxt_data": "__NUXT_DATA__"}
LD_PRODUCT_TYPES = (
    "Product", "Course", "Book", "CreativeWork", "Event", "Service", "SoftwareApplication",
    "EducationalOccupationalProgram",
)  # fmt: skip
LD_SELLER_KEYS = ("brand", "author", "creator", "provider", "organizer", "seller")


@dataclass(frozen=True, slots=True)
class FoundContact:
    rung: str
    kind: ContactKind
    value: str  # as found (a bare handle in page state becomes its profile URL)
    method: str
    certainty: Certainty


@dataclass(slots=True)
class PageFacts:
    """What one product page says: ``field -> (rung, value)``, first rung wins; contacts."""

    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)
    contacts: list[FoundContact] = field(default_factory=list)
    bad_states: list[str] = field(default_factory=list)  # state scripts present but unreadable

    def put(self, name: str, rung: str, value: Any) -> None:
        if value not in (None, "") and name not in self.fields:
            self.fields[name] = (rung, value)

    def get(self, name: str) -> Any:
        return self.fields.get(name, (None, None))[1]

    def add_contact(
        self,
        rung: str,
        kind: ContactKind,
        value: str,
        method: str,
        certainty: Certainty = Certainty.CERTAIN,
    ) -> None:
        key = _contact_identity(kind, value)
        if all(_contact_identity(c.kind, c.value) != key for c in self.contacts):
            self.contacts.append(FoundContact(rung, kind, value, method, certainty))

    def found(self) -> Iterator[tuple[str, str]]:
        """``(rung, field)`` per field and ``(rung, contact kind)`` per contact, for stats."""
        for name, (rung, _value) in self.fields.items():
            yield rung, name
        for contact in self.contacts:
            yield contact.rung, str(contact.kind)

    def lead(self, *, platform: str, spider: str, url: str, checkout_url: str) -> Lead | None:
        """The producer as a :class:`Lead`, or None when the page names nobody."""
        producer, legal_name = self.get("producer"), self.get("legal_name")
        if not (producer or legal_name or self.contacts):
            return None
        return Lead(
            sighting=Sighting(source=platform, url=url, spider=spider),
            display_name=producer or legal_name,
            legal_name=legal_name,
            cnpj=self.get("cnpj"),
            website=self.get("website"),
            contacts=[
                ContactPoint(
                    kind=c.kind,
                    value=c.value,
                    source_url=url,
                    method=c.method,
                    certainty=c.certainty,
                )
                for c in self.contacts
            ],
            offers=[
                Offer(
                    platform=platform,
                    checkout_url=checkout_url,
                    product_name=self.get("product"),
                    price_brl=self.get("price"),
                    seller_id=self.get("seller_id"),
                )
            ],
        )


def _contact_identity(kind: ContactKind, value: str) -> tuple[ContactKind, str]:
    text = value.strip().lower()
    if kind == ContactKind.EMAIL:
        return kind, text.removeprefix("mailto:").split("?", 1)[0]
    if kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        return kind, re.sub(r"\D", "", whatsapp_phone_text(value) or text)
    return kind, re.sub(r"^https?://(www\.)?|/+$", "", text)


def read_product_page(
    response: TextResponse, *, states: Iterable[str], seller_id: re.Pattern[str]
) -> PageFacts:
    """Climb the ladder on a product page: structured data, then each page-state format in
    ``states`` (keys of :data:`STATE_READERS`), then the rendered text.

    ``seller_id`` is the shape of the platform's seller ids: a candidate id that does not
    match it is someone else's (a product's, an order's) and is not taken.
    """
    page = PageFacts()
    _read_structured(response, page)
    for rung in states:
        state = STATE_READERS[rung](response)
        if state is None:
            script_id = _STATE_SCRIPT_IDS.get(rung)
            if script_id and _script_by_id(response, script_id):
                page.bad_states.append(rung)
            continue
        _read_state(rung, state_facts(state), page, seller_id)
    _read_text(response, page)
    return page


def _brl(amount: Any, currency: Any) -> Decimal | None:
    if amount in (None, "") or isinstance(amount, bool):
        return None
    if currency not in (None, "") and str(currency).strip().upper() != "BRL":
        return None
    value = to_decimal(amount)
    return value.quantize(CENT) if value is not None and Decimal(0) < value < MAX_PRICE else None


def _read_structured(response: TextResponse, page: PageFacts) -> None:
    page.put("product", "meta", product_title(meta(response, "og:title", "twitter:title")))
    page.put("producer", "meta", plausible_name(meta(response, "author", "article:author")))
    description = meta(response, "og:description", "twitter:description", "description")
    page.put("producer", "meta", labelled_name([description]) if description else None)
    page.put(
        "price",
        "meta",
        _brl(
            meta(response, "product:price:amount", "og:price:amount"),
            meta(response, "product:price:currency", "og:price:currency"),
        ),
    )
    for node in json_ld(response):
        if not any(ld_type_is(node, kind) for kind in LD_PRODUCT_TYPES):
            continue
        page.put("product", "jsonld", product_title(ld_name(node.get("name"))))
        offers = node.get("offers")
        offer = offers[0] if isinstance(offers, list) and offers else offers
        sellers = [node.get(key) for key in LD_SELLER_KEYS]
        if isinstance(offer, dict):
            sellers.append(offer.get("seller"))
            amount = offer.get("price", offer.get("lowPrice"))
            page.put("price", "jsonld", _brl(amount, offer.get("priceCurrency")))
        for seller in sellers:
            name = plausible_name(ld_name(seller))
            page.put("producer", "jsonld", name)
            if name and isinstance(seller, dict):
                _read_ld_profiles(seller, page)


def _read_ld_profiles(seller: dict[str, Any], page: PageFacts) -> None:
    """The seller's social profiles listed in its JSON-LD ``sameAs``."""
    same_as = seller.get("sameAs")
    for url in same_as if isinstance(same_as, list) else [same_as]:
        if not isinstance(url, str) or _kind_of_link(url.strip()) != ContactKind.SOCIAL:
            continue
        if not platform_owned(url):
            page.add_contact("jsonld", ContactKind.SOCIAL, url.strip(), "jsonld")


def _read_state(rung: str, facts: StateFacts, page: PageFacts, seller_id: re.Pattern[str]) -> None:
    def first(values: Iterable[Any]) -> Any:
        return next((value for value in values if value), None)

    page.put("producer", rung, first(map(plausible_name, facts.producers)))
    page.put("legal_name", rung, first(map(plausible_name, facts.legal_names)))
    page.put("product", rung, first(map(product_title, facts.products)))
    page.put("price", rung, first(facts.prices))
    page.put("seller_id", rung, first(i for i in facts.seller_ids if seller_id.fullmatch(i)))
    page.put("cnpj", rung, first(facts.cnpjs))
    page.put("website", rung, first(facts.websites))
    for kind, value in facts.contacts:
        page.add_contact(rung, kind, value, "embedded_json")


def _read_text(response: TextResponse, page: PageFacts) -> None:
    page.put("producer", "text", labelled_name(text_nodes(response)))
    page.put("price", "text", page_price(visible_text(response, skip=STRUCK)))
    page.put("product", "text", product_title(response.xpath("normalize-space(//h1)").get()))
    page.put("product", "text", product_title(response.xpath("normalize-space(//title)").get()))
    for kind, value, method in link_contacts(response):
        page.add_contact("text", kind, value, method)
    for address in text_emails(response):
        page.add_contact("text", ContactKind.EMAIL, address, "text", Certainty.UNCERTAIN)
