"""Kiwify's checkout pages: the product, the producer, the legal seller, the price, the store.

What a checkout shows (see the platforms reference): the product name in ``og:title``, the
producer in ``og:description``, a BRL price, the legal seller in the footer sentence
"... processando essa compra em nome de <NOME> e que não possui responsabilidade ...",
and an ``og:image`` under ``aws-assets.kiwify.com.br/.../<15-char store id>/`` that groups
one producer's checkouts. Each field is taken from the first rung of the ladder that has
it (structured data, then visible text); the spider counts the rungs.
"""

from __future__ import annotations

import re
from typing import Any

from leadcrawler.extraction.labels import STRUCK, visible_text
from leadcrawler.extraction.page import HtmlPage
from leadcrawler.extraction.prices import page_price, to_decimal
from leadcrawler.extraction.structured import json_ld, ld_name, ld_type_is, meta

SELLER_RE = re.compile(r"em nome de\s+(.+?)\s+e que n[ãa]o possui", re.IGNORECASE)
STORE_ID_RE = re.compile(r"kiwify\.com\.br/(?:[^\"'\s]*/)?([A-Za-z0-9]{15})/")
MAX_NAME_WORDS = 10  # an og:description longer than this is a blurb, not a producer's name


def read_kiwify_page(response: HtmlPage) -> dict[str, tuple[str, Any]]:
    """``field -> (rung, value)`` for each field found, first rung wins."""
    found: dict[str, tuple[str, Any]] = {}

    def put(field_name: str, rung: str, value: Any) -> None:
        if value not in (None, "") and field_name not in found:
            found[field_name] = (rung, value)

    # Rung 1: structured data.
    put("product", "meta", meta(response, "og:title", "twitter:title"))
    description = meta(response, "og:description", "twitter:description")
    if description and len(description.split()) <= MAX_NAME_WORDS:
        put("producer", "meta", description)
    image = meta(response, "og:image", "twitter:image") or ""
    store = STORE_ID_RE.search(image)
    put("store_id", "meta", store.group(1) if store else None)
    for node in json_ld(response):
        if not ld_type_is(node, "Product"):
            continue
        put("product", "jsonld", ld_name(node.get("name")))
        put("producer", "jsonld", ld_name(node.get("brand")))
        offers = node.get("offers")
        offer = offers[0] if isinstance(offers, list) and offers else offers
        if isinstance(offer, dict):
            put("seller", "jsonld", ld_name(offer.get("seller")))
            price = offer.get("price")
            if price not in (None, "") and str(offer.get("priceCurrency", "BRL")) == "BRL":
                put("price", "jsonld", to_decimal(price))

    # Rung 3: visible text.
    text = visible_text(response)
    seller = SELLER_RE.search(text)
    put("seller", "text", seller.group(1) if seller else None)
    put("price", "text", page_price(visible_text(response, skip=STRUCK)))
    if "store_id" not in found:
        store = STORE_ID_RE.search(response.text)
        put("store_id", "text", store.group(1) if store else None)
    if "product" not in found:
        put("product", "text", response.xpath("normalize-space(//h1)").get())
    return found
