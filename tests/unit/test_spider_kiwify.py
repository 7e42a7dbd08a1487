"""The kiwify spider against hand-written checkout pages (ground truth in kiwify_expected.json)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import Lead
from leadcrawler.domain.text import clean_text
from leadcrawler.spiders.base import UsageError
from leadcrawler.spiders.kiwify import KiwifySpider
from tests.conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "kiwify_expected.json").read_text("utf-8"))
CHECKOUTS = [c for c in EXPECTED["checkouts"] if "status" not in c]


def spider(**kwargs: Any) -> KiwifySpider:
    crawler = get_crawler(KiwifySpider)
    return KiwifySpider.from_crawler(
        crawler, **{"urls": "https://pay.kiwify.com.br/AbC1234", **kwargs}
    )


def response_for(url: str) -> HtmlResponse:
    path = FIXTURES / "web" / "pay.kiwify.com.br" / f"{url.rsplit('/', 1)[1]}.html"
    return HtmlResponse(url, body=path.read_bytes(), request=Request(url))


@pytest.mark.parametrize("case", CHECKOUTS, ids=[c["url"].rsplit("/", 1)[1] for c in CHECKOUTS])
def test_checkout_pages_yield_their_producer(case: dict[str, Any]) -> None:
    kiwify = spider()
    leads = list(kiwify.parse(response_for(case["url"])))
    if not case["extractable"]:
        assert leads == []
        assert kiwify.crawler.stats.get_value("kiwify/extract/no_lead") == 1
        return
    [lead] = leads
    assert isinstance(lead, Lead)
    assert clean_text(lead.display_name) == case["producer"]
    [offer] = lead.offers
    assert offer.checkout_url == case["url"]
    assert clean_text(offer.product_name) == case["product"]
    assert offer.price_brl == (Decimal(case["price_brl"]) if case["price_brl"] else None)
    assert offer.seller_id == case["store_id"]
    assert lead.contacts == []  # buyer-form and platform addresses are not the producer's


def test_rung_stats_say_where_each_field_came_from() -> None:
    kiwify = spider()
    for case in CHECKOUTS:
        list(kiwify.parse(response_for(case["url"])))
    stats = kiwify.crawler.stats.get_stats()
    assert stats["kiwify/extract/meta/product"] >= 5
    assert stats["kiwify/extract/jsonld/price"] == 1
    assert stats["kiwify/extract/text/seller"] >= 5
    assert stats["kiwify/extract/text/product"] == 1  # the page with no meta at all


def test_urls_are_read_from_arguments_and_files(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "# checkouts\nhttps://pay.kiwify.com.br/Fn8kQ2z\n\nhttps://kiwify.app/aNa7Vnd  # sales link\n"
    )
    kiwify = spider(urls="https://pay.kiwify.com.br/7rTbW3x", urls_file=str(listing))
    assert kiwify.input_urls == [
        "https://pay.kiwify.com.br/7rTbW3x",
        "https://pay.kiwify.com.br/Fn8kQ2z",
        "https://kiwify.app/aNa7Vnd",
    ]


def test_buyer_data_in_query_strings_is_never_requested() -> None:
    import asyncio

    kiwify = spider(
        urls="https://pay.kiwify.com.br/Fn8kQ2z?email=comprador@gmail.com&cpf=12345678909&afid=x,"
        "https://pay.kiwify.com.br/Fn8kQ2z,https://example.com/not-kiwify,https://pay.kiwify.com.br/toolong99"
    )

    async def collect() -> list[Request]:
        return [request async for request in kiwify.start()]

    requests = asyncio.run(collect())
    assert [r.url for r in requests] == ["https://pay.kiwify.com.br/Fn8kQ2z"]
    stats = kiwify.crawler.stats.get_stats()
    assert stats["kiwify/input/duplicate"] == 1
    assert stats["kiwify/input/not_a_product_page"] == 2


def test_bad_arguments_are_clear_usage_errors() -> None:
    with pytest.raises(UsageError, match="does not exist"):
        spider(urls=None, urls_file="/nonexistent/urls.txt")
    with pytest.raises(UsageError, match="whole number"):
        spider(limit="many")
    with pytest.raises(UsageError, match="at least 1"):
        spider(limit="0")
    assert KiwifySpider.from_crawler(get_crawler(KiwifySpider)).uses_frontier
