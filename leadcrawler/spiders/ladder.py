"""The generic ladder spider: every platform that is only data in ``platforms.toml``.

``scrapy crawl eduzz -a urls=https://sun.eduzz.com/1234567`` (or ``-a urls_file=``), or
``scrapy crawl <platform> [-a limit=N]`` to drain that platform's pending frontier URLs.

There is no Python per platform: :class:`leadcrawler.spiderloader.PlatformSpiderLoader`
makes one spider named after each platform key that has no spider of its own (Eduzz,
Monetizze, Braip, Ticto, Cakto, Kirvano, Greenn, PerfectPay, Lastlink, and any platform
added to ``platforms.toml`` or to a file in ``PLATFORMS_EXTRA_FILES``). Each reads its
product pages with the same ladder as Hubla and Hotmart
(:func:`leadcrawler.extraction.extract.read_product_page`): ``og:*``/``twitter:*`` meta and JSON-LD,
then the page state (the formats the platform lists in ``states``, money read with its
``money_in_state`` convention), then the visible text ("Vendido por X", "Produtor: X",
the BRL price, the main heading or an element named ``product-title``/``product-name``,
the seller's ``mailto:`` and WhatsApp links), and at last the page rendered by the
browser. Stats: ``<platform>/extract/<rung>/<field>``, ``<platform>/extract/no_lead``,
``<platform>/extract/rejected/<reason>``.
"""

from __future__ import annotations

from leadcrawler.domain.platforms import Platform
from leadcrawler.spiders.base import StatePageSpider


class LadderSpider(StatePageSpider):
    """Base of the generated spiders; it has no name of its own, so it is never listed."""

    @classmethod
    def for_platform(cls, platform: Platform) -> type[LadderSpider]:
        """A spider class named after ``platform.key`` that crawls that platform's pages."""
        return type(
            f"{platform.key.title().replace('_', '')}Spider",
            (cls,),
            {
                "name": platform.key,
                "platform_key": platform.key,
                "__module__": __name__,
                "__doc__": f"{platform.name}: product pages read by the generic ladder.",
            },
        )
