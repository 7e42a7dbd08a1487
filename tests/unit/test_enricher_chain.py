"""The enricher's chain without a base: shared rules, one parse per phone, settings owners."""

from __future__ import annotations

from typing import Any

import pytest

from leadcrawler.domain import phones
from leadcrawler.domain.items import ContactKind, ContactStatus
from leadcrawler.domain.phones import PhoneRules
from leadcrawler.enricher import Chain, MemoryStats, SettingsMap, enrich_leads
from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.qualify import rules_for_crawl
from leadcrawler.extraction.contacts import extract_page
from tests.support.factories import contact, lead


def raw_phone_lead(*values: tuple[ContactKind, str]) -> Any:
    item = lead("Ana Souza", contacts=[contact(kind, value) for kind, value in values])
    for c in item.contacts:  # as a source hands them over: not normalised, not checked
        c.normalized, c.status = None, ContactStatus.UNVERIFIED
    return item


def test_each_phone_value_is_parsed_once_through_the_chain(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A number is read by phones._parse: the common-spelling shortcut or phonenumbers.parse.
    parsed: list[str] = []
    real_parse = phones._parse

    def counting_parse(raw: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(raw)
        return real_parse(raw, *args, **kwargs)

    monkeypatch.setattr(phones, "_parse", counting_parse)
    item = raw_phone_lead(
        (ContactKind.PHONE, "(11) 98765-4321"),
        (ContactKind.WHATSAPP, "https://wa.me/5521912345678"),
    )
    report = enrich_leads([item], ENRICH_DNS_ENABLED=False)
    [kept] = report.kept
    phone = next(c for c in kept.contacts if c.kind == ContactKind.PHONE)
    assert phone.status == ContactStatus.VALID and phone.details["ddd"] == "11"
    whatsapp = next(c for c in kept.contacts if c.kind == ContactKind.WHATSAPP)
    assert whatsapp.details["whatsapp_capable"] is True
    assert len(parsed) == 2  # normalize parsed each number; validate and enrich reused it


def test_validate_reads_phones_with_the_normalize_steps_rules() -> None:
    settings = SettingsMap.from_module("settings.base", NORMALIZE_DEFAULT_REGION="PT")
    chain = Chain(settings, MemoryStats())
    assert chain.validator is not None and chain.validator.phones.region == "PT"
    with pytest.raises(ConfigError, match="NORMALIZE_DEFAULT_REGION"):
        _ = Chain(SettingsMap.from_module(NORMALIZE_DEFAULT_REGION="XX"), MemoryStats()).normalizer


def test_site_visits_and_replays_get_their_settings_from_the_steps_that_own_them() -> None:
    settings = SettingsMap.from_module(
        ENRICH_SITE_ENABLED=False, ENRICH_SITE_MAX_PAGES=2, ENRICH_SITE_MAX_CONTACTS=7
    )
    config = Chain(settings, MemoryStats()).site_visit_config
    assert (config.enabled, config.max_pages, config.max_contacts) == (False, 2, 7)
    assert config.max_checkout_links == 5  # the project's default
    assert rules_for_crawl(SettingsMap.from_module(QUALIFY_ENABLED=False)) is None
    with pytest.raises(ConfigError, match="qualification rules file not found"):
        rules_for_crawl(SettingsMap.from_module(QUALIFY_RULES_FILE="/nonexistent.toml"))


def test_without_a_base_nothing_is_stored_and_dedupe_uses_memory() -> None:
    first = lead("Ana Souza", contacts=[contact(ContactKind.EMAIL, "ana@anasouza.com.br")])
    again = lead(
        "Ana Souza",
        checkout="https://pay.kiwify.com.br/Zz9Yy8X",
        contacts=[contact(ContactKind.EMAIL, "ana@anasouza.com.br")],
    )
    report = enrich_leads([first, again], ENRICH_DNS_ENABLED=False)
    assert report.kept[0].lead_uid == report.kept[1].lead_uid
    assert report.stats["leadcrawler/dedupe/repeat_in_run"] == 1
    assert "leadcrawler/persist/batches" not in report.stats


SITE = """<html><body><main>
<p>Telefone: (11) 9123-4567</p>
</main></body></html>"""


def test_site_contacts_honour_the_phone_repair_setting() -> None:
    repaired = extract_page(SITE, "https://www.loja.com.br/", phones=PhoneRules("BR", repair=True))
    assert [c.value for c in repaired.contacts if c.kind == ContactKind.PHONE] == ["(11) 9123-4567"]
    as_written = extract_page(
        SITE, "https://www.loja.com.br/", phones=PhoneRules("BR", repair=False)
    )
    assert [c for c in as_written.contacts if c.kind == ContactKind.PHONE] == []
