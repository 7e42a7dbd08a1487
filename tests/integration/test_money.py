"""Prices a salesperson quotes back: cents by the platform's convention, the visible price
decides, impossible amounts are refused and counted."""

from __future__ import annotations

from decimal import Decimal

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import Lead
from leadcrawler.domain.platforms import load_platforms
from leadcrawler.extraction.extract import state_facts
from leadcrawler.spiders.hubla import HublaSpider
from tests.conftest import FIXTURES
from tests.e2e.test_e2e_kiwify import leads

GROUP = "https://hub.la/g/Vd3kPq81LmZx0TcWn5Ra"


def hubla() -> HublaSpider:
    return HublaSpider.from_crawler(get_crawler(HublaSpider), urls=GROUP)


def page(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode(), request=Request(url))


def parse(spider: HublaSpider, response: HtmlResponse) -> Lead:
    [lead] = [item for item in spider.parse(response) if isinstance(item, Lead)]
    return lead


def state_page(state: str, text: str = "") -> str:
    return (
        "<html><head><meta property='og:title' content='Curso de Bolos'></head><body>"
        f"<h1>Curso de Bolos</h1><p>Vendido por Ana Doces</p>{text}"
        f"<script id='__NEXT_DATA__' type='application/json'>{state}</script></body></html>"
    )


def test_hubla_amounts_in_page_state_are_cents() -> None:
    assert load_platforms()["hubla"].money_in_state == "cents"
    spider = hubla()
    response = page(GROUP, (FIXTURES / "web/hub.la/g/Vd3kPq81LmZx0TcWn5Ra.html").read_text())
    lead = parse(spider, response)
    assert lead.offers[0].price_brl == Decimal("97.00")  # not R$ 9.700,00
    assert lead.display_name == "Juliana Prado Nutrição"
    assert spider.crawler.stats.get_value("hubla/extract/next_data/price") == 1


def test_the_convention_only_touches_whole_numbers() -> None:
    cents = {"product": {"price": {"amount": 9700, "currency": "BRL"}}}
    assert state_facts(cents, "cents").prices[0] == Decimal("97.00")
    assert state_facts(cents, "reais").prices[0] == Decimal("9700.00")
    # A decimal number or a string with a comma is reais whatever the convention.
    assert state_facts({"product": {"price": 97.0}}, "cents").prices == [Decimal("97.00")]
    assert state_facts({"product": {"price": "97,00"}}, "cents").prices == [Decimal("97.00")]
    # A key that says cents is cents on any platform.
    assert state_facts({"product": {"priceInCents": 4990}}, "reais").prices == [Decimal("49.90")]


def test_the_visible_price_wins_over_the_page_state() -> None:
    spider = hubla()
    url = "https://pay.hub.la/Bv7mQ2xL9kP4tR8wZ1cN"
    # The state's whole number would be R$ 1,97 by Hubla's convention; the page shows R$ 197,00.
    lead = parse(spider, page(url, state_page('{"product": {"price": 197}}', "<p>R$ 197,00</p>")))
    assert lead.offers[0].price_brl == Decimal("197.00")
    assert spider.crawler.stats.get_value("hubla/extract/text/price") == 1
    # When both agree, the state's rung keeps the credit.
    agree = state_page('{"product": {"price": 9700}}', "<p>R$ 97,00</p>")
    assert parse(spider, page(url, agree)).offers[0].price_brl == Decimal("97.00")
    assert spider.crawler.stats.get_value("hubla/extract/next_data/price") == 1


def test_impossible_prices_are_refused_and_counted() -> None:
    spider = hubla()
    url = "https://pay.hub.la/Xx7mQ2xL9kP4tR8wZ1cN"
    ld = (
        '<script type="application/ld+json">{"@type": "Product", "name": "Curso de Bolos",'
        ' "offers": {"price": "250000.00", "priceCurrency": "BRL"}}</script>'
    )
    lead = parse(spider, page(url, state_page("{}", ld)))
    assert lead.offers[0].price_brl is None
    assert spider.crawler.stats.get_value("hubla/extract/rejected/price_too_high") == 1
    text = parse(spider, page(url, state_page("{}", "<p>Apenas R$ 150.000,00</p>")))
    assert text.offers[0].price_brl is None
    assert spider.crawler.stats.get_value("hubla/extract/rejected/price_too_high") == 2
    # R$ 100.000,00 is still a (very dear) price.
    top = parse(spider, page(url, state_page("{}", "<p>R$ 100.000,00</p>")))
    assert top.offers[0].price_brl == Decimal("100000.00")


def test_crawled_hubla_group_is_stored_at_its_real_price(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("hubla", sqlite_url, f"urls={GROUP}")
    assert result.returncode == 0, result.log[-3000:]
    [row] = leads(sqlite_url)
    [offer] = row["offers"]
    assert Decimal(str(offer["price_brl"])) == Decimal("97.00")
