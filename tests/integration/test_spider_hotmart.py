"""The hotmart spider against hand-written Hotmart pages (ground truth in hotmart_expected.json)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import Certainty, ContactKind, Lead
from leadcrawler.domain.text import clean_text
from leadcrawler.extraction.producer import platform_owned
from leadcrawler.spiders.hotmart import HotmartSpider
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES
from tests.integration.test_spider_hubla import contact_set, expected_contacts, normalized

EXPECTED = json.loads((FIXTURES / "hotmart_expected.json").read_text("utf-8"))
PAGES = [c for c in EXPECTED["checkouts"] if "status" not in c]
ALL_URLS = [c["url"] for c in EXPECTED["checkouts"]] + [g["url"] for g in EXPECTED["go_links"]]
# Hotmart's own addresses, the buyer form's placeholders, another producer's data.
NOT_PRODUCERS = ("hotmart", "exemplo", "email.com", "joao.souza", "3164", "99999", "vitorhugo")


def spider(**kwargs: Any) -> HotmartSpider:
    crawler = get_crawler(HotmartSpider)
    return HotmartSpider.from_crawler(
        crawler, **{"urls": "https://pay.hotmart.com/A12345678B", **kwargs}
    )


def response_for(url: str, **kwargs: Any) -> HtmlResponse:
    path = FIXTURES / "web" / f"{url.split('://', 1)[1]}.html"
    return HtmlResponse(url, body=path.read_bytes(), request=Request(url), **kwargs)


@pytest.mark.parametrize("case", PAGES, ids=[c["url"].rsplit("/", 1)[1] for c in PAGES])
def test_pages_yield_their_producer(case: dict[str, Any]) -> None:
    hotmart = spider()
    leads = list(hotmart.parse(response_for(case["url"])))
    stats = hotmart.crawler.stats.get_stats()
    if not case["extractable"]:
        assert leads == []
        assert stats["hotmart/extract/no_lead"] == 1
        return
    [lead] = leads
    assert isinstance(lead, Lead)
    assert lead.sighting.source == "hotmart"
    assert clean_text(lead.display_name) == case["producer"]
    assert clean_text(lead.legal_name) == case["legal_name"]
    assert (lead.cnpj and "".join(ch for ch in lead.cnpj if ch.isdigit())) == case["cnpj"]
    [offer] = lead.offers
    assert offer.platform == "hotmart"
    assert offer.checkout_url == case["checkout_url"]
    assert clean_text(offer.product_name) == case["product"]
    assert offer.price_brl == (Decimal(case["price_brl"]) if case["price_brl"] else None)
    assert offer.seller_id == case["seller_id"]
    # The product's ucode (in the URL) is not the seller's id.
    assert offer.seller_id != case["url"].rsplit("/", 1)[1]
    assert contact_set(lead.contacts) == expected_contacts(case)
    for contact in lead.contacts:
        assert contact.source_url == case["url"]
        assert not any(trap in contact.value.lower() for trap in NOT_PRODUCERS), contact.value
    for field_name, rung in case["rungs"].items():
        assert stats.get(f"hotmart/extract/{rung}/{field_name}") == 1, (field_name, rung, stats)


def test_support_email_from_nuxt_state_is_certain() -> None:
    [lead] = spider().parse(response_for("https://pay.hotmart.com/A90981729A"))
    [contact] = lead.contacts
    assert contact.kind == ContactKind.EMAIL
    assert contact.value == "contato@anadavilaconfeitaria.com.br"
    assert (contact.method, contact.certainty) == ("embedded_json", Certainty.CERTAIN)


def test_rung_stats_add_up_over_the_pages() -> None:
    hotmart = spider()
    for case in PAGES:
        list(hotmart.parse(response_for(case["url"])))
    stats = hotmart.crawler.stats.get_stats()
    assert stats["hotmart/extract/nuxt_data/producer"] == 3
    assert stats["hotmart/extract/nuxt_data/email"] == 3
    assert stats["hotmart/extract/jsonld/producer"] == 2
    assert stats["hotmart/extract/text/producer"] == 1
    assert stats["hotmart/extract/next_data/seller_id"] == 1
    assert stats["hotmart/extract/no_lead"] == 1


def test_no_platform_address_is_ever_a_contact() -> None:
    hotmart = spider()
    for case in PAGES:
        for lead in hotmart.parse(response_for(case["url"])):
            assert not [c.value for c in lead.contacts if platform_owned(c.value)]
            assert all("@hotmart.com" not in c.value for c in lead.contacts)


def test_a_go_link_to_the_checkout_is_parsed_as_the_checkout() -> None:
    url = "https://pay.hotmart.com/B84064307J?checkoutMode=10&sck=HOTMART_PRODUCT_PAGE"
    body = (FIXTURES / "web" / "pay.hotmart.com" / "B84064307J.html").read_bytes()
    response = HtmlResponse(url, body=body, request=Request(url))
    [lead] = spider().parse(response)
    assert lead.display_name == "Educação Financeira Ltda"
    assert lead.offers[0].checkout_url == "https://pay.hotmart.com/B84064307J"


def test_a_go_link_to_the_producers_own_page_is_a_sales_site_lead() -> None:
    [link] = [g for g in EXPECTED["go_links"] if g.get("sales_page")]
    url = link["location"]
    body = (FIXTURES / "web" / "www.anadavilaconfeitaria.com.br" / "index.html").read_bytes()
    request = Request(url, meta={"redirect_urls": [link["url"]]})
    response = HtmlResponse(url, body=body, request=request)
    hotmart = spider()
    [lead] = hotmart.parse(response)
    assert lead.website == url
    assert lead.display_name and "Ana D'Ávila" in lead.display_name
    assert [o.checkout_url for o in lead.offers] == [link["checkout_url"]]
    assert hotmart.crawler.stats.get_value("hotmart/extract/sales_site") == 1


def test_checkout_go_and_marketplace_urls_are_accepted_and_queries_dropped() -> None:
    hotmart = spider(
        urls="https://pay.hotmart.com/B84064307J?off=x1y2z3&email=comprador@gmail.com,"
        "https://go.hotmart.com/B84064307J?ap=1a2b,"
        "https://hotmart.com/pt-br/marketplace/produtos/planilha-controle-financeiro-familiar/F24602910Y,"
        "https://pay.hotmart.com/B84064307J,https://hotmart.com/pt-br/blog/como-vender,"
        "https://pay.hotmart.com/b84064307j"
    )

    async def collect() -> list[Request]:
        return [request async for request in hotmart.start()]

    assert [r.url for r in asyncio.run(collect())] == [
        "https://pay.hotmart.com/B84064307J",
        "https://go.hotmart.com/B84064307J",
        "https://hotmart.com/pt-br/marketplace/produtos/planilha-controle-financeiro-familiar/F24602910Y",
    ]
    stats = hotmart.crawler.stats.get_stats()
    assert stats["hotmart/input/duplicate"] == 1
    assert stats["hotmart/input/not_a_product_page"] == 2


def test_crawl_stores_the_hotmart_producers(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("hotmart", sqlite_url, "urls=" + ",".join(ALL_URLS))
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    log = result.log
    assert "'hotmart/extract/nuxt_data/producer'" in log
    assert "'hotmart/extract/nuxt_data/email'" in log
    assert "'hotmart/extract/no_lead': 1" in log
    assert "'hotmart/extract/sales_site': 1" in log
    assert "'hotmart/page/gone': 1" in log
    assert "contato@anadavilaconfeitaria.com.br" not in log  # personal data stays out of logs

    store = open_store(sqlite_url)
    stored = list(store.iter_leads())
    store.engine.dispose()
    by_name = {row["name"]: row for row in stored}
    producers = {c["producer"] for c in PAGES if c["producer"]}
    # One lead per producer. The go.hotmart.com link that leads to Ana D'Ávila's own site
    # is read as her site: the support e-mail there is the one her checkout's page state
    # shows, so the site joins her lead, bringing her Kiwify checkouts and WhatsApp along.
    assert set(by_name) == producers
    assert len(stored) == len(producers)
    ana = by_name["Ana D'Ávila"]
    assert ana["domain"] == "anadavilaconfeitaria.com.br"
    [sales_link] = [g for g in EXPECTED["go_links"] if g.get("sales_page")]
    assert {"https://pay.hotmart.com/A90981729A", sales_link["checkout_url"]} <= {
        o["checkout_url"] for o in ana["offers"]
    }
    assert {o["platform"] for o in ana["offers"]} == {"hotmart", "kiwify"}
    assert ("whatsapp", "+5531990001234") in {
        (c["kind"], normalized(c["kind"], c["value"])) for c in ana["contacts"]
    }
    for group in EXPECTED["same_producer"]:
        offers = {o["checkout_url"] for o in by_name[group["producer"]]["offers"]}
        assert set(group["checkout_urls"]) <= offers
        assert {o["seller_id"] for o in by_name[group["producer"]]["offers"]} == {
            group["shared_key"].rsplit(":", 1)[1]
        }
    offers_by_url = {o["checkout_url"]: o for row in stored for o in row["offers"]}
    for case in PAGES:
        if not case["extractable"]:
            assert case["checkout_url"] not in offers_by_url
            continue
        offer = offers_by_url[case["checkout_url"]]
        assert offer["product_name"] == case["product"]
        assert str(offer["price_brl"]) == case["price_brl"]
        row = by_name[case["producer"]]
        assert row["legal_name"] == case["legal_name"]
        assert row["cnpj"] == case["cnpj"]
        stored_contacts = {
            (c["kind"], normalized(c["kind"], c["value"])): c["status"] for c in row["contacts"]
        }
        for key in expected_contacts(case):
            assert stored_contacts.get(key) == "valid", (key, stored_contacts)
    for row in stored:
        for contact in row["contacts"]:
            assert not any(trap in contact["value"].lower() for trap in NOT_PRODUCERS)


def test_an_empty_shell_is_rendered_once_then_counted_as_no_lead() -> None:
    crawler = get_crawler(HotmartSpider, settings_dict={"RENDER_ENABLED": True})
    hotmart = HotmartSpider.from_crawler(crawler, urls="https://pay.hotmart.com/J27877955R")
    [request] = hotmart.parse(response_for("https://pay.hotmart.com/J27877955R"))
    assert isinstance(request, Request)
    assert request.meta["playwright"] is True
    assert request.dont_filter
    rendered = HtmlResponse(
        request.url, body=response_for("https://pay.hotmart.com/J27877955R").body, request=request
    )
    assert list(hotmart.parse(rendered)) == []
    stats = hotmart.crawler.stats.get_stats()
    assert stats["hotmart/extract/render/requested"] == 1
    assert stats["hotmart/extract/no_lead"] == 1
