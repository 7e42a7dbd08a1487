"""Hotmart: producers behind ``pay.hotmart.com/<ucode>`` checkouts, ``go.hotmart.com/<ucode>``
links and ``hotmart.com/<lang>/marketplace/produtos/<slug>/<ucode>`` product pages.

``scrapy crawl hotmart -a urls=https://pay.hotmart.com/A12345678B`` (or ``-a urls_file=``),
or ``scrapy crawl hotmart [-a limit=N]`` to drain pending Hotmart URLs from the frontier.

The checkout is a Nuxt application whose ``__NUXT_DATA__`` state has held the producer's
support e-mail (see the platforms reference); marketplace pages may be Next.js. Each field
comes from the first rung that has it (:func:`leadcrawler.extract.read_product_page`):

1. ``meta``/``jsonld``: ``og:*``/``twitter:*`` meta and JSON-LD (product, price, author);
2. ``nuxt_data``/``window_nuxt``/``next_data``/``next_flight``: the embedded page state,
   searched by what its keys mean: producer name and id (``ucode``), legal name, CNPJ,
   product, price, and the producer's support e-mail, WhatsApp and social profiles
   (``method="embedded_json"``);
3. ``text``: "Autor: X", "Produtor: X", "Vendido por X", the BRL price, the ``<h1>``, and
   ``mailto:``/WhatsApp links in the page's content (never in the header, footer or forms);
4. ``render``: when rungs 1-3 name nobody, the page is requested once more rendered by
   the browser and read again (its fields then count under ``render``).

Offers are keyed by the canonical checkout ``pay.hotmart.com/<ucode>``, whether the page
was a checkout, a ``go.hotmart.com`` link or a marketplace page. A ``go.hotmart.com`` link
that redirects to the producer's own sales page yields a lead for that site, read with
its contact pages by the site visit (as Kiwify's sales links are); so is a producer site
named in the page state.

Stats: ``hotmart/extract/<rung>/<field>`` (fields: producer, legal_name, product, price,
seller_id, cnpj, website; contacts by kind: email, whatsapp, phone, social),
``hotmart/extract/bad_state/<rung>``, ``hotmart/extract/no_lead`` and
``hotmart/extract/sales_site``. Hotmart's own addresses (any ``@hotmart.com``, anything
naming Hotmart) and the buyer's form are never taken.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from scrapy.http import Request, Response, TextResponse

from leadcrawler.extract import meta, read_product_page
from leadcrawler.items import Lead, Offer, Sighting
from leadcrawler.platforms import platform_for_url
from leadcrawler.spiders.base import PlatformSpider

logger = logging.getLogger(__name__)

# A producer's id in Hotmart's state: its ucode (a UUID) or its numeric user id.
SELLER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,63}")


class HotmartSpider(PlatformSpider):
    name = "hotmart"
    platform_key = "hotmart"
    # Page-state formats in the order tried: Nuxt 3, Nuxt 2, then Next.js.
    states: ClassVar[tuple[str, ...]] = ("nuxt_data", "window_nuxt", "next_data", "next_flight")

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Lead | Request]:
        self.page_done(response)
        if not isinstance(response, TextResponse):
            self._inc("extract/not_html")
            return
        if self.platform.product_id(response.url) is None:
            if platform_for_url(response.url) is None:
                # A go.hotmart.com link that redirected to the producer's own sales page.
                yield from self.parse_sales_site(response)
            else:
                self._inc("extract/not_a_product_page")
                logger.info("Not a Hotmart product page after redirects: %s", response.url)
            return
        page = read_product_page(response, states=self.states, seller_id=SELLER_ID_RE)
        for rung, found in page.found():
            self._inc(f"extract/{self.rung(response, rung)}/{found}")
        for rung in page.bad_states:
            self._inc(f"extract/bad_state/{rung}")
        lead = page.lead(
            platform=self.platform_key,
            spider=self.name,
            url=response.url,
            checkout_url=self.platform.checkout_url(response.url),
        )
        if lead is None:
            rendered = self.render_again(response)
            if rendered is not None:
                yield rendered
                return
            self._inc("extract/no_lead")
            logger.info("No producer found on %s", response.url)
            return
        # A producer's own site (from the page state) is read for more contacts.
        yield from self.visit_site(lead)

    def parse_sales_site(self, response: TextResponse) -> Iterator[Lead | Request]:
        redirects = response.meta.get("redirect_urls", [])
        links = [u for u in redirects if self.platform.product_id(u)]
        name = meta(response, "og:site_name") or response.xpath("normalize-space(//title)").get()
        self._inc("extract/sales_site")
        lead = Lead(
            sighting=Sighting(source=self.platform_key, url=response.url, spider=self.name),
            display_name=name or None,
            website=response.url,
            offers=[
                Offer(platform=self.platform_key, checkout_url=self.platform.checkout_url(u))
                for u in links[:1]
            ],
        )
        # The sales page is the producer's own site: read it and its contact pages.
        yield from self.visit_site(lead, response)
