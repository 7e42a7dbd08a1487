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

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response, TextResponse

from leadcrawler.domain.items import Lead, Offer, Sighting
from leadcrawler.extraction.kiwify import read_kiwify_page
from leadcrawler.spiders.base import PlatformSpider


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
        fields = read_kiwify_page(response)
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
