"""Kiwify's reader hook for the shared ladder: the product, the producer, the legal seller,
the price and the store.

What a checkout shows (see the platforms reference): the product name in ``og:title``, the
producer in ``og:description``, a BRL price, the legal seller in the footer sentence
"... processando essa compra em nome de <NOME> e que não possui responsabilidade ...",
and an ``og:image`` under ``aws-assets.kiwify.com.br/.../<15-char store id>/`` that groups
one producer's checkouts (the store id's shape is the platform's ``seller_id`` in
``platforms.toml``). :func:`leadcrawler.extraction.extract.read_product_page` calls it in
place of the generic structured-data and text rungs (``reader = "kiwify"``); each field is
taken from the first rung that has it, under Kiwify's names ``seller`` (the legal name)
and ``store_id`` (the seller id).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from leadcrawler.extraction.labels import STRUCK, visible_text
from leadcrawler.extraction.page import HtmlPage
from leadcrawler.extraction.prices import page_price, to_decimal
from leadcrawler.extraction.producer import MAX_PRICE
from leadcrawler.extraction.structured import json_ld, ld_name, ld_type_is, meta, rung_guard

if TYPE_CHECKING:
    from leadcrawler.extraction.extract import PageFacts

SELLER_RE = re.compile(r"em nome de\s+(.+?)\s+e que n[ãa]o possui", re.IGNORECASE)
MAX_NAME_WORDS = 10  # an og:description longer than this is a blurb, not a producer's name


def _store_id_re(seller_id: re.Pattern[str]) -> re.Pattern[str]:
    """A store id as a folder of Kiwify's asset URLs."""
    return re.compile(rf"kiwify\.com\.br/(?:[^\"'\s]*/)?({seller_id.pattern})/")


def read_kiwify_page(response: HtmlPage, page: PageFacts, seller_id: re.Pattern[str]) -> None:
    """Put the checkout's fields in ``page`` (first rung wins); a crafted page that breaks
    a rung costs only that rung (``page.failed_rungs``), unreadable JSON-LD is noted in
    ``page.bad_states``. An impossible price is dropped and counted in ``page.rejected``."""
    store_id = _store_id_re(seller_id)

    # Rung 1: structured data.
    with rung_guard(page.failed_rungs, "structured", response.url):
        page.put("product", "meta", meta(response, "og:title", "twitter:title"))
        description = meta(response, "og:description", "twitter:description")
        if description and len(description.split()) <= MAX_NAME_WORDS:
            page.put("producer", "meta", description)
        image = meta(response, "og:image", "twitter:image") or ""
        store = store_id.search(image)
        page.put("store_id", "meta", store.group(1) if store else None)
        for node in json_ld(response, page.bad_states):
            if not ld_type_is(node, "Product"):
                continue
            page.put("product", "jsonld", ld_name(node.get("name")))
            page.put("producer", "jsonld", ld_name(node.get("brand")))
            offers = node.get("offers")
            offer = offers[0] if isinstance(offers, list) and offers else offers
            if isinstance(offer, dict):
                page.put("seller", "jsonld", ld_name(offer.get("seller")))
                price = offer.get("price")
                if price not in (None, "") and str(offer.get("priceCurrency", "BRL")) == "BRL":
                    page.put("price", "jsonld", to_decimal(price))

    # Rung 3: visible text.
    with rung_guard(page.failed_rungs, "text", response.url):
        text = visible_text(response)
        seller = SELLER_RE.search(text)
        page.put("seller", "text", seller.group(1) if seller else None)
        page.put("price", "text", page_price(visible_text(response, skip=STRUCK)))
        if "store_id" not in page.fields:
            store = store_id.search(response.text)
            page.put("store_id", "text", store.group(1) if store else None)
        if "product" not in page.fields:
            page.put("product", "text", response.xpath("normalize-space(//h1)").get())

    price = page.get("price")
    if price is not None and price > MAX_PRICE:
        del page.fields["price"]  # an id or a typo, not what a course costs
        page.rejected.append("price_too_high")
