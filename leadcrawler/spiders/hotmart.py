"""Hotmart: producers behind ``pay.hotmart.com/<ucode>`` checkouts, ``go.hotmart.com/<ucode>``
links and ``hotmart.com/<lang>/marketplace/produtos/<slug>/<ucode>`` product pages.

``scrapy crawl hotmart -a urls=https://pay.hotmart.com/A12345678B`` (or ``-a urls_file=``),
or ``scrapy crawl hotmart [-a limit=N]`` to drain pending Hotmart URLs from the frontier.

The checkout is a Nuxt application whose ``__NUXT_DATA__`` state has held the producer's
support e-mail (see the platforms reference); marketplace pages may be Next.js. Each field
comes from the first rung that has it (:func:`leadcrawler.extraction.extract.read_product_page`):

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

import re
from typing import ClassVar

from leadcrawler.spiders.base import StatePageSpider

# A producer's id in Hotmart's state: its ucode (a UUID) or its numeric user id.
SELLER_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,63}")


class HotmartSpider(StatePageSpider):
    name = "hotmart"
    platform_key = "hotmart"
    # Page-state formats in the order tried: Nuxt 3, Nuxt 2, then Next.js.
    states: ClassVar[tuple[str, ...]] = ("nuxt_data", "window_nuxt", "next_data", "next_flight")
    seller_id: ClassVar[re.Pattern[str]] = SELLER_ID_RE
