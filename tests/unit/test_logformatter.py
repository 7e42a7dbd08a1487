"""Logs never carry a lead's e-mails or phones."""

from __future__ import annotations

from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import ContactKind
from leadcrawler.logformatter import MaskingLogFormatter, mask
from tests.support.factories import contact, lead


def test_mask_hides_emails_and_phones() -> None:
    text = mask("ana.souza@cursos.com.br or +55 (11) 98765-4321 or 11987654321")
    assert "ana.souza" not in text and "cursos.com.br" not in text
    assert "98765" not in text and "4321" not in text
    assert text.startswith("a***@***")


def test_scraped_and_dropped_items_are_summarised() -> None:
    crawler = get_crawler(Spider)
    spider = Spider.from_crawler(crawler, name="kiwify")
    formatter = MaskingLogFormatter()
    item = lead(
        contacts=[
            contact(ContactKind.EMAIL, "ana@cursos.com.br"),
            contact(ContactKind.PHONE, "+5511987654321"),
        ]
    )
    response = HtmlResponse("https://pay.kiwify.com.br/AbC1234", body=b"")
    for entry in (
        formatter.scraped(item, response, spider),
        formatter.dropped(item, DropItem("no_identity: ana@cursos.com.br"), response, spider),
        formatter.item_error(item, ValueError("boom"), response, spider),
    ):
        message = entry["msg"] % entry["args"]
        assert "ana@cursos.com.br" not in message
        assert "5511987654321" not in message
        assert "contacts=2" in message
