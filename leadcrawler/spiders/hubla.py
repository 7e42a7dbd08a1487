"""Hubla: producers behind ``pay.hub.la/<id>`` checkouts and ``hub.la/g/<id>`` group pages.

``scrapy crawl hubla -a urls=https://pay.hub.la/pNvftlqYLpsT2RlpwLID`` (or ``-a urls_file=``),
or ``scrapy crawl hubla [-a limit=N]`` to drain pending Hubla URLs from the frontier.

Hubla's public pages are a Next.js application (see the platforms reference), so the page
state is read as well as the markup. Each field comes from the first rung that has it
(:func:`leadcrawler.extraction.extract.read_product_page`):

1. ``meta``/``jsonld``: ``og:*``/``twitter:*`` meta and JSON-LD (product, price, a seller
   named in the description);
2. ``next_data``/``next_flight`` (and the Nuxt formats, should Hubla move): the embedded
   page state, searched by what its keys mean: the seller's name, its Firebase-style
   28-character id, the product, the price, and the seller's support e-mail, WhatsApp and
   social profiles (``method="embedded_json"``);
3. ``text``: "Vendido por X", "Produtor: X", "Criado por X", the BRL price, the ``<h1>``,
   and ``mailto:``/WhatsApp links in the page's content (never in the header, footer or
   forms);
4. ``render``: when rungs 1-3 name nobody, the page is requested once more rendered by
   the browser and read again (its fields then count under ``render``).

A lead whose page state gives the producer's own site is handed to the site visit, which
reads that site's contact pages.

Stats: ``hubla/extract/<rung>/<field>`` (fields: producer, legal_name, product, price,
seller_id, cnpj, website; contacts by kind: email, whatsapp, phone, social),
``hubla/extract/bad_state/<rung>`` for a state script that no longer parses, and
``hubla/extract/no_lead`` for a page that names nobody. A rung that stops producing is
the first sign that Hubla changed its pages. Hubla's own addresses (any ``hub.la``
domain, anything naming Hubla) and the buyer's form are never taken.
"""

from __future__ import annotations

import re
from typing import ClassVar

from leadcrawler.spiders.base import StatePageSpider

SELLER_ID_RE = re.compile(r"[A-Za-z0-9]{28}")  # a Firebase Auth uid


class HublaSpider(StatePageSpider):
    name = "hubla"
    platform_key = "hubla"
    # Page-state formats in the order tried: Next.js pages router, then app router.
    states: ClassVar[tuple[str, ...]] = ("next_data", "next_flight", "nuxt_data", "window_nuxt")
    seller_id: ClassVar[re.Pattern[str]] = SELLER_ID_RE
