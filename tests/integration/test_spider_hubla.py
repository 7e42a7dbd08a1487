"""The hubla spider against hand-written Hubla pages (ground truth in hubla_expected.json)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from leadcrawler.domain.emails import normalize_email
from leadcrawler.domain.items import Certainty, ContactKind, ContactPoint, Lead
from leadcrawler.domain.phones import normalize_phone, whatsapp_phone_text
from leadcrawler.domain.text import clean_text
from leadcrawler.domain.urls import canonical_url
from leadcrawler.extraction.producer import platform_owned
from leadcrawler.spiders.hubla import HublaSpider
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "hubla_expected.json").read_text("utf-8"))
PAGES = [c for c in EXPECTED["checkouts"] if "status" not in c]
ALL_URLS = [c["url"] for c in EXPECTED["checkouts"]]
# What the buyer form and the platform put on the pages: never a producer's contact.
NOT_PRODUCERS = ("hub.la", "exemplo.com", "maria.silva", "4003", "91234", "hubla.app")


def spider(**kwargs: Any) -> HublaSpider:
    crawler = get_crawler(HublaSpider)
    return HublaSpider.from_crawler(
        crawler, **{"urls": "https://pay.hub.la/pNvftlqYLpsT2RlpwLID", **kwargs}
    )


def response_for(url: str) -> HtmlResponse:
    path = FIXTURES / "web" / f"{url.split('://', 1)[1]}.html"
    return HtmlResponse(url, body=path.read_bytes(), request=Request(url))


def normalized(kind: str, value: str) -> str | None:
    """A contact value as the normalize stage spells it."""
    if kind == ContactKind.EMAIL:
        return normalize_email(value)
    if kind in (ContactKind.PHONE, ContactKind.WHATSAPP):
        info = normalize_phone(whatsapp_phone_text(value) or "")
        return info.e164 if info else None
    return canonical_url(value, assume_scheme="https")


def contact_set(contacts: list[ContactPoint]) -> set[tuple[str, str | None]]:
    return {(str(c.kind), normalized(c.kind, c.value)) for c in contacts}


def expected_contacts(case: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(c["kind"], normalized(c["kind"], c["value"])) for c in case["contacts"]}


@pytest.mark.parametrize("case", PAGES, ids=[c["url"].rsplit("/", 1)[1] for c in PAGES])
def test_pages_yield_their_producer(case: dict[str, Any]) -> None:
    hubla = spider()
    leads = list(hubla.parse(response_for(case["url"])))
    stats = hubla.crawler.stats.get_stats()
    if not case["extractable"]:
        assert leads == []
        assert stats["hubla/extract/no_lead"] == 1
        return
    [lead] = leads
    assert isinstance(lead, Lead)
    assert lead.sighting.source == "hubla"
    assert clean_text(lead.display_name) == case["producer"]
    assert clean_text(lead.legal_name) == case["legal_name"]
    assert lead.cnpj == case["cnpj"]
    [offer] = lead.offers
    assert offer.platform == "hubla"
    assert offer.checkout_url == case["url"]
    assert clean_text(offer.product_name) == case["product"]
    assert offer.price_brl == (Decimal(case["price_brl"]) if case["price_brl"] else None)
    assert offer.seller_id == case["seller_id"]
    # Exactly the producer's contacts: no buyer placeholder, no Hubla address.
    assert contact_set(lead.contacts) == expected_contacts(case)
    for contact in lead.contacts:
        assert contact.source_url == case["url"]
        assert not any(trap in contact.value for trap in NOT_PRODUCERS), contact.value
        if contact.method == "embedded_json":
            assert contact.certainty == Certainty.CERTAIN
    for field_name, rung in case["rungs"].items():
        assert stats.get(f"hubla/extract/{rung}/{field_name}") == 1, (field_name, rung, stats)
    if "bad_state" in case:
        assert stats[f"hubla/extract/bad_state/{case['bad_state']}"] == 1
    assert "hubla/extract/no_lead" not in stats


def test_contacts_from_page_state_say_how_they_were_found() -> None:
    [lead] = spider().parse(response_for("https://pay.hub.la/M0XvqZjxTW3xvboSRt5M"))
    assert {(c.kind, c.method, c.certainty) for c in lead.contacts} == {
        (ContactKind.WHATSAPP, "embedded_json", Certainty.CERTAIN),
        (ContactKind.SOCIAL, "embedded_json", Certainty.CERTAIN),
    }
    # A contact written in running text is only probably the producer's.
    [lead] = spider().parse(response_for("https://pay.hub.la/8uwCDydesokF5NSAllsN"))
    [contact] = lead.contacts
    assert (contact.method, contact.certainty) == ("text", Certainty.UNCERTAIN)


def test_rung_stats_add_up_over_the_pages() -> None:
    hubla = spider()
    for case in PAGES:
        list(hubla.parse(response_for(case["url"])))
    stats = hubla.crawler.stats.get_stats()
    assert stats["hubla/extract/next_data/producer"] == 3
    assert stats["hubla/extract/next_flight/producer"] == 1
    assert stats["hubla/extract/jsonld/producer"] == 1
    assert stats["hubla/extract/text/producer"] == 2
    assert stats["hubla/extract/meta/product"] == 5
    assert stats["hubla/extract/next_data/email"] == 1
    assert stats["hubla/extract/text/whatsapp"] == 1
    assert stats["hubla/extract/no_lead"] == 1


def test_no_platform_address_is_ever_a_contact() -> None:
    hubla = spider()
    for case in PAGES:
        for lead in hubla.parse(response_for(case["url"])):
            assert not [c.value for c in lead.contacts if platform_owned(c.value)]


def test_product_and_group_urls_are_accepted_and_queries_dropped() -> None:
    hubla = spider(
        urls="https://pay.hub.la/h3dAwVtRMflhbmuaptt0?email=comprador@gmail.com&cpf=12345678909,"
        "https://hub.la/g/Azn0DNRUQxA71p2Td8VK/,https://pay.hub.la/h3dAwVtRMflhbmuaptt0,"
        "https://app.hub.la/dashboard,https://pay.hub.la/short,https://pay.kiwify.com.br/Fn8kQ2z"
    )

    async def collect() -> list[Request]:
        return [request async for request in hubla.start()]

    assert [r.url for r in asyncio.run(collect())] == [
        "https://pay.hub.la/h3dAwVtRMflhbmuaptt0",
        "https://hub.la/g/Azn0DNRUQxA71p2Td8VK",
    ]
    stats = hubla.crawler.stats.get_stats()
    assert stats["hubla/input/duplicate"] == 1
    assert stats["hubla/input/not_a_product_page"] == 3


def test_a_redirect_away_from_the_product_is_not_parsed() -> None:
    hubla = spider()
    url = "https://app.hub.la/login"
    page = HtmlResponse(
        url, body=b"<html><body><h1>Entrar</h1></body></html>", request=Request(url)
    )
    assert list(hubla.parse(page)) == []
    assert hubla.crawler.stats.get_value("hubla/extract/not_a_product_page") == 1


def test_crawl_stores_the_hubla_producers(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("hubla", sqlite_url, "urls=" + ",".join(ALL_URLS))
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    log = result.log
    assert "'hubla/extract/next_data/producer': 3" in log
    assert "'hubla/extract/next_flight/seller_id': 1" in log
    assert "'hubla/extract/bad_state/next_data': 1" in log
    assert "'hubla/extract/no_lead': 1" in log
    assert "'hubla/page/gone': 1" in log
    assert "suporte@educacaofinanceira.com.br" not in log  # personal data stays out of logs

    store = open_store(sqlite_url)
    stored = list(store.iter_leads())
    store.engine.dispose()
    by_name = {row["name"]: row for row in stored}
    producers = {c["producer"] for c in PAGES if c["producer"]}
    # One lead per producer: pages of one seller merge on the seller id or a shared
    # e-mail; the two Anas share a first name and nothing else, so they stay apart.
    assert set(by_name) == producers
    assert len(stored) == len(producers)
    for group in EXPECTED["same_producer"]:
        offers = {o["checkout_url"] for o in by_name[group["producer"]]["offers"]}
        assert set(group["urls"]) <= offers
    offers_by_url = {o["checkout_url"]: o for row in stored for o in row["offers"]}
    for case in PAGES:
        if not case["extractable"]:
            assert case["url"] not in offers_by_url
            continue
        offer = offers_by_url[case["url"]]
        assert offer["product_name"] == case["product"]
        assert (str(offer["price_brl"]) if offer["price_brl"] is not None else None) == case[
            "price_brl"
        ]
        assert offer["seller_id"] == case["seller_id"]
        row = by_name[case["producer"]]
        stored_contacts = {
            (c["kind"], normalized(c["kind"], c["value"])): c["status"] for c in row["contacts"]
        }
        for key in expected_contacts(case):
            assert stored_contacts.get(key) == "valid", (key, stored_contacts)
    for row in stored:
        for contact in row["contacts"]:
            assert not platform_owned(contact["value"]), contact["value"]
            assert not any(trap in contact["value"] for trap in NOT_PRODUCERS), contact["value"]


def test_an_empty_shell_is_rendered_once_then_counted_as_no_lead() -> None:
    crawler = get_crawler(HublaSpider, settings_dict={"RENDER_ENABLED": True})
    hubla = HublaSpider.from_crawler(crawler, urls="https://pay.hub.la/b8pp1xxXHU0BScJXj675")
    [request] = hubla.parse(response_for("https://pay.hub.la/b8pp1xxXHU0BScJXj675"))
    assert isinstance(request, Request)
    assert request.meta["playwright"] is True
    assert request.dont_filter
    rendered = HtmlResponse(
        request.url,
        body=response_for("https://pay.hub.la/b8pp1xxXHU0BScJXj675").body,
        request=request,
    )
    assert list(hubla.parse(rendered)) == []
    stats = hubla.crawler.stats.get_stats()
    assert stats["hubla/extract/render/requested"] == 1
    assert stats["hubla/extract/no_lead"] == 1
