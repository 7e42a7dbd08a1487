"""Kiwify: producers behind ``pay.kiwify.com.br/<id>`` checkouts and ``kiwify.app/<id>`` links.

``scrapy crawl kiwify -a urls=https://pay.kiwify.com.br/46MiJGu`` (or ``-a urls_file=``),
or ``scrapy crawl kiwify [-a limit=N]`` to drain pending Kiwify URLs from the frontier.

What a checkout shows (see the platforms reference): the product name in ``og:title``, the
producer in ``og:description``, a BRL price, the legal seller in the footer sentence
"... processando essa compra em nome de <NOME> e que não possui responsabilidade ...",
and an ``og:image`` under ``aws-assets.kiwify.com.br/.../<15-char store id>/`` that groups
one producer's checkouts. The shared ladder reads it (:class:`StatePageSpider`) with
Kiwify's own small reader (``reader = "kiwify"`` in ``platforms.toml``:
:func:`leadcrawler.extraction.kiwify.read_kiwify_page`) in place of the generic
structured-data and text rungs. Each field is taken from the first rung that has it, and
the rung is counted in ``kiwify/extract/<rung>/<field>`` stats (fields: product, producer,
seller, price, store_id), so a rung that stops producing shows that Kiwify changed its
pages. When no rung finds the producer, the page is requested once more rendered by the
browser (rung ``render``). A ``kiwify.app`` link that redirects to the producer's own site
yields a lead for that site, which joins the store's lead through the checkout id the two
share.
"""

from __future__ import annotations

from leadcrawler.spiders.base import StatePageSpider


class KiwifySpider(StatePageSpider):
    # Page reader, store-id shape and the absence of page state: platforms.toml.
    name = "kiwify"
    platform_key = "kiwify"
