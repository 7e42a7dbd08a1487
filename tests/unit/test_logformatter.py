"""Logs never carry a lead's e-mails or phones."""

from __future__ import annotations

import logging

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from leadcrawler.domain.items import ContactKind
from leadcrawler.logformatter import (
    MaskingLogFormatter,
    install_log_masking,
    mask,
    mask_log_text,
)
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


def test_every_log_record_of_the_process_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("scrapy.core.scraper").error(
            "Error processing %s: %r", "contato@anadoces.com.br", {"phone": "+55 11 98765-4321"}
        )
        logging.getLogger("twisted").info("wa.me/5511987654321 and (31) 99000-1234")
        logging.getLogger("scrapy.statscollectors").info(
            "{'downloader/response_bytes': 123456789, 'elapsed_time_seconds': 12.345678, "
            "'log_count/DEBUG': 5531}"
        )
    text = caplog.text
    for personal in ("contato@", "anadoces.com.br", "98765-4321", "5511987654321", "99000-1234"):
        assert personal not in text
    # Ordinary numbers stay readable: stats, timings.
    assert "123456789" in text and "12.345678" in text and "5531}" in text


def test_mask_log_text_keeps_ids_and_dates() -> None:
    line = "run 2026-11-29 23:18:37 uid 1b4e28ba-2fa1-11d2-883f-0016d3cca427 took 0.5 s"
    assert mask_log_text(line) == line
