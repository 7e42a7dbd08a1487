"""Kiwify: producers behind ``pay.kiwify.com.br/<id>`` checkouts and ``kiwify.app/<id>`` links.

``scrapy crawl kiwify -a urls=https://pay.kiwify.com.br/46MiJGu`` (or ``-a urls_file=``),
or ``scrapy crawl kiwify [-a limit=N]`` to drain pending Kiwify URLs from the frontier.

What a checkout shows (see the platforms reference): the product name in ``og:title``, the
producer in ``og:description``, a BRL price, the legal seller in the footer sentence
"... processando essa compra em nome de <NOME> e que não possui responsabilidade ...",
and an ``og:image`` under ``aws-assets.kiwify.com.br/.../<15-char store id>/`` that groups
one producer's checkouts. Each field is taken from the first rung of the ladder that has
it, and the rung is counted in ``kiwify/extract/<rung>/<field>`` stats, so a rung that
stops producing shows that Kiwify changed its pages. When no rung finds the producer,
the page is requested once more rendered by the browser (rung ``render``). A
``kiwify.app`` link that redirects to the producer's own site yields a lead for that
site, which joins the store's lead through the checkout id the two share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response, TextResponse

from leadcrawler.domain.items import Lead, Offer, Sighting
from leadcrawler.extraction.extract import (
    STRUCK,
    json_ld,
    ld_name,
    ld_type_is,
    meta,
    page_price,
    to_decimal,
    visible_text,
)
from leadcrawler.spiders.base import PlatformSpider

SELLER_RE = re.compile(r"em nome de\s+(.+?)\s+e que n[ãa]o possui", re.IGNORECASE)
STORE_ID_RE = re.compile(r"kiwify\.com\.br/(?:[^\"'\s]*/)?([A-Za-z0-9]{15})/")
MAX_NAME_WORDS = 10  # an og:description longer than this is a blurb, not a producer's name


class KiwifySpider(PlatformSpider):
    name = "kiwify"
    platform_key = "kiwify"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Lead | Request]:
        self.page_done(response)
        if not isinstance(response, TextResponse):
            self._inc("extract/not_html")
            return
        link_id = self.platform.product_id(response.url)
        if link_id is None:
            # A kiwify.app sales link that redirected to the producer's own site.
            yield from self.parse_sales_site(response)
            return
        fields = self.extract(response)
        for field_name, (rung, _value) in fields.items():
            self._inc(f"extract/{self.rung(response, rung)}/{field_name}")
        producer = fields.get("producer", (None, None))[1]
        seller = fields.get("seller", (None, None))[1]
        if not producer and not seller:
            yield from self.lead_or_render(None, response)
            return
        yield Lead(
            sighting=Sighting(source="kiwify", url=response.url, spider=self.name),
            display_name=producer or seller,
            legal_name=seller,
            offers=[
                Offer(
                    platform="kiwify",
                    checkout_url=self.platform.checkout_url(response.url),
                    product_name=fields.get("product", (None, None))[1],
                    price_brl=fields.get("price", (None, None))[1],
                    seller_id=fields.get("store_id", (None, None))[1],
                )
            ],
        )

    def extract(self, response: TextResponse) -> dict[str, tuple[str, Any]]:
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
