"""The extraction ladder for platforms whose pages are JavaScript applications (Hubla, Hotmart).

:func:`read_product_page` climbs the rungs, each in its own module:

1. structured data (:mod:`~leadcrawler.extraction.structured`): ``og:*``/``twitter:*`` meta
   and JSON-LD;
2. page state (:mod:`~leadcrawler.extraction.state` decodes Next.js and Nuxt state,
   :mod:`~leadcrawler.extraction.producer` reads it by what its keys mean);
3. visible text (:mod:`~leadcrawler.extraction.labels`: labelled names, contact links,
   e-mails next to a support cue; :mod:`~leadcrawler.extraction.prices`: BRL prices).

A platform whose pages the generic rungs misread names a small reader of its own in
``platforms.toml`` (``reader = "kiwify"``: :data:`PAGE_READERS`), which replaces the
structured-data and text rungs; page state, stats and the lead stay the ladder's. A
producer's own site is read by :mod:`~leadcrawler.extraction.contacts`. Helpers return raw
strings; cleaning belongs to the normalize step. Reads no settings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead, Offer, Sighting
from leadcrawler.domain.phones import whatsapp_phone_text
from leadcrawler.extraction.contacts import browser_tree
from leadcrawler.extraction.kiwify import read_kiwify_page
from leadcrawler.extraction.labels import (
    STRUCK,
    labelled_name,
    link_contacts,
    named_product,
    text_emails,
    text_nodes,
    visible_text,
)
from leadcrawler.extraction.page import HtmlPage
from leadcrawler.extraction.prices import page_price, to_decimal
from leadcrawler.extraction.producer import (
    CENT,
    MAX_PRICE,
    StateFacts,
    _kind_of_link,
    platform_owned,
    plausible_name,
    product_title,
    state_facts,
)
from leadcrawler.extraction.state import (
    _script_by_id,
    next_data,
    next_flight,
    nuxt_data,
    window_nuxt,
)
from leadcrawler.extraction.structured import json_ld, ld_name, ld_type_is, meta, rung_guard

logger = logging.getLogger(__name__)

# Platforms' own readers, by the name ``platforms.toml`` gives in ``reader``: each puts its
# fields in the page's facts (first rung wins) in place of the generic structured-data and
# text rungs. Fields named ``seller`` and ``store_id`` are the legal name and the seller id.
PageReader = Callable[[HtmlPage, "PageFacts", re.Pattern[str]], None]
PAGE_READERS: dict[str, PageReader] = {"kiwify": read_kiwify_page}

# --- The whole ladder, for platforms whose pages are JavaScript applications ---------------

STATE_READERS: dict[str, Callable[[HtmlPage], Any]] = {
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
    rejected: list[str] = field(default_factory=list)  # values refused, by reason (for stats)
    failed_rungs: list[str] = field(default_factory=list)  # rungs a crafted page broke

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
        producer = self.get("producer")
        legal_name = self.get("legal_name") or self.get("seller")
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
                    seller_id=self.get("seller_id") or self.get("store_id"),
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
    response: HtmlPage,
    *,
    states: Iterable[str],
    seller_id: re.Pattern[str],
    money_in_state: str = "reais",
    reader: str | None = None,
) -> PageFacts:
    """Climb the ladder on a product page: structured data, then each page-state format in
    ``states`` (keys of :data:`STATE_READERS`), then the rendered text.

    ``seller_id`` is the shape of the platform's seller ids: a candidate id that does not
    match it is someone else's (a product's, an order's) and is not taken.
    ``money_in_state`` is the platform's convention for whole amounts in the page state
    (``"cents"`` or ``"reais"``). A price shown as text wins over the page state's (the
    buyer sees it); any price above :data:`MAX_PRICE` is refused and counted in
    ``rejected`` as ``price_too_high``. ``reader`` names the platform's own reader
    (:data:`PAGE_READERS`), which then replaces the structured-data and text rungs.
    """
    own_reader = None
    if reader is not None:
        own_reader = PAGE_READERS.get(reader)
        if own_reader is None:
            raise ValueError(f"unknown page reader {reader!r}; known: {', '.join(PAGE_READERS)}")
    browser_tree(response.selector.root)  # markup after </html> is read, as browsers show it
    page = PageFacts()
    if own_reader is not None:
        own_reader(response, page, seller_id)
    else:
        with rung_guard(page.failed_rungs, "structured", response.url):
            _read_structured(response, page)
    for rung in states:
        with rung_guard(page.failed_rungs, rung, response.url):
            state = STATE_READERS[rung](response)
            if state is None:
                script_id = _STATE_SCRIPT_IDS.get(rung)
                if script_id and _script_by_id(response, script_id):
                    page.bad_states.append(rung)
                continue
            facts = state_facts(state, money_in_state)
            page.rejected += ["price_too_high"] * facts.rejected_prices
            _read_state(rung, facts, page, seller_id)
    if own_reader is None:
        with rung_guard(page.failed_rungs, "text", response.url):
            _read_text(response, page)
    return page


def _brl(amount: Any, currency: Any) -> Decimal | None:
    if amount in (None, "") or isinstance(amount, bool):
        return None
    if currency not in (None, "") and str(currency).strip().upper() != "BRL":
        return None
    value = to_decimal(amount)
    return value.quantize(CENT) if value is not None and Decimal(0) < value else None


def _put_price(page: PageFacts, rung: str, price: Decimal | None) -> None:
    """The price found on ``rung``, unless it is impossible (counted as rejected)."""
    if price is not None and price > MAX_PRICE:
        page.rejected.append("price_too_high")
        return
    page.put("price", rung, price)


def _read_structured(response: HtmlPage, page: PageFacts) -> None:
    page.put("product", "meta", product_title(meta(response, "og:title", "twitter:title")))
    page.put("producer", "meta", plausible_name(meta(response, "author", "article:author")))
    description = meta(response, "og:description", "twitter:description", "description")
    page.put("producer", "meta", labelled_name([description]) if description else None)
    _put_price(
        page,
        "meta",
        _brl(
            meta(response, "product:price:amount", "og:price:amount"),
            meta(response, "product:price:currency", "og:price:currency"),
        ),
    )
    for node in json_ld(response, page.bad_states):
        if not any(ld_type_is(node, kind) for kind in LD_PRODUCT_TYPES):
            continue
        page.put("product", "jsonld", product_title(ld_name(node.get("name"))))
        offers = node.get("offers")
        offer = offers[0] if isinstance(offers, list) and offers else offers
        sellers = [node.get(key) for key in LD_SELLER_KEYS]
        if isinstance(offer, dict):
            sellers.append(offer.get("seller"))
            amount = offer.get("price", offer.get("lowPrice"))
            _put_price(page, "jsonld", _brl(amount, offer.get("priceCurrency")))
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


def _read_text(response: HtmlPage, page: PageFacts) -> None:
    page.put("producer", "text", labelled_name(text_nodes(response)))
    shown = page_price(visible_text(response, skip=STRUCK))
    rung, stated = page.fields.get("price", ("", None))
    if shown is not None and rung in STATE_READERS and stated != shown:
        # The page state's number is the one a convention may misread (cents or reais):
        # when they disagree, the price the buyer sees decides.
        del page.fields["price"]
    _put_price(page, "text", shown)
    page.put("product", "text", product_title(response.xpath("normalize-space(//h1)").get()))
    page.put("product", "text", named_product(response))
    page.put("product", "text", product_title(response.xpath("normalize-space(//title)").get()))
    for kind, value, method in link_contacts(response):
        page.add_contact("text", kind, value, method)
    for address in text_emails(response):
        page.add_contact("text", ContactKind.EMAIL, address, "text", Certainty.UNCERTAIN)
