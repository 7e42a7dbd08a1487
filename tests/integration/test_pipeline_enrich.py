"""Enrich stage: offline facts per contact, for the qualify stage to score."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from leadcrawler.domain.facts import build_facts
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead, Sighting
from leadcrawler.enricher.enrich import offline_facts
from leadcrawler.enricher.qualify import sighting_view
from leadcrawler.pipelines.enrich import EnrichPipeline
from leadcrawler.pipelines.normalize import NormalizePipeline
from leadcrawler.pipelines.validate import ValidatePipeline
from tests.support.dnsserver import DnsServer, running_dnsmasq
from tests.support.factories import project_settings

PAGE = "https://anacursos.com.br/contato"


def raw_contact(kind: ContactKind, value: str) -> ContactPoint:
    return ContactPoint(kind=kind, value=value, source_url=PAGE, method="test")


def raw_lead(*contacts: ContactPoint) -> Lead:
    return Lead(
        sighting=Sighting(source="site", url=PAGE, spider="site"),
        display_name="Ana Souza",
        contacts=list(contacts),
    )


def settle(result: object) -> Any:
    """The enrich stage is asynchronous (it awaits DNS): run it to completion."""
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return result


class Chain:
    """normalize -> validate -> enrich, built from one crawler as Scrapy would."""

    def __init__(self, **settings: object) -> None:
        crawler = get_crawler(settings_dict=project_settings(**settings))
        self.stats = crawler.stats
        self.stages: list[NormalizePipeline | ValidatePipeline | EnrichPipeline] = [
            NormalizePipeline.from_crawler(crawler),
            ValidatePipeline.from_crawler(crawler),
            EnrichPipeline.from_crawler(crawler),
        ]

    def __call__(self, item: Lead) -> Lead:
        for stage in self.stages:
            item = settle(stage.process_item(item))
        return item

    def stat(self, key: str) -> object:
        assert self.stats is not None
        return self.stats.get_value(f"leadcrawler/enrich/{key}")


def test_brazilian_mobile() -> None:
    run = Chain()
    item = run(raw_lead(raw_contact(ContactKind.PHONE, "(11) 91234-5678")))
    assert item.contacts[0].details == {
        "phone_type": "mobile",
        "country_code": 55,
        "ddd": "11",
        "state": "SP",
        "whatsapp_capable": True,
    }
    assert run.stat("contacts/phone") == 1
    assert run.stat("phone_type/mobile") == 1
    assert run.stat("whatsapp_capable") == 1


def test_landline_and_toll_free() -> None:
    run = Chain()
    item = run(
        raw_lead(
            raw_contact(ContactKind.PHONE, "(31) 3333-4444"),
            raw_contact(ContactKind.PHONE, "0800 123 4567"),
        )
    )
    landline, toll_free = (c.details for c in item.contacts)
    assert landline["phone_type"] == "landline"
    assert (landline["ddd"], landline["state"]) == ("31", "MG")
    assert landline["whatsapp_capable"] is False
    assert toll_free["phone_type"] == "toll_free"
    assert (toll_free["ddd"], toll_free["state"]) == (None, None)
    assert run.stat("whatsapp_capable") is None


def test_foreign_number() -> None:
    item = Chain()(raw_lead(raw_contact(ContactKind.PHONE, "+44 20 7946 0958")))
    details = item.contacts[0].details
    assert details["country_code"] == 44
    assert details["phone_type"] == "landline"
    assert (details["ddd"], details["state"], details["whatsapp_capable"]) == (None, None, False)


def test_whatsapp_link_is_whatsapp_capable_even_on_a_landline() -> None:
    # WhatsApp Business runs on landlines; the link is the evidence.
    item = Chain()(raw_lead(raw_contact(ContactKind.WHATSAPP, "https://wa.me/551133334444")))
    details = item.contacts[0].details
    assert details["phone_type"] == "landline"
    assert details["whatsapp_capable"] is True


def test_email_flags() -> None:
    run = Chain()
    item = run(
        raw_lead(
            raw_contact(ContactKind.EMAIL, "Ana.Souza@GMAIL.com"),
            raw_contact(ContactKind.EMAIL, "contato@anacursos.com.br"),
            raw_contact(ContactKind.EMAIL, "ana@anacursos.com.br"),
            raw_contact(ContactKind.EMAIL, "teste123@mailinator.com"),
        )
    )
    assert [c.details for c in item.contacts] == [
        {"free_provider": True, "role_address": False, "disposable": False},
        {"free_provider": False, "role_address": True, "disposable": False},
        {"free_provider": False, "role_address": False, "disposable": False},
        {"free_provider": False, "role_address": False, "disposable": True},
    ]
    assert run.stat("free_provider") == 1
    assert run.stat("role_address") == 1
    assert run.stat("disposable") == 1
    assert run.stat("contacts/email") == 4


def test_scoring_reads_the_flags() -> None:
    item = Chain()(
        raw_lead(
            raw_contact(ContactKind.EMAIL, "ana@gmail.com"),
            raw_contact(ContactKind.EMAIL, "contato@anacursos.com.br"),
            raw_contact(ContactKind.PHONE, "(11) 91234-5678"),
        )
    )
    facts = build_facts(sighting_view(item))
    assert (facts.free_emails, facts.business_emails, facts.role_emails) == (1, 1, 1)
    assert facts.whatsapp


def test_invalid_contacts_are_not_enriched() -> None:
    item = Chain()(
        raw_lead(
            raw_contact(ContactKind.EMAIL, "logo@2x.png"),
            raw_contact(ContactKind.PHONE, "(11) 1234-5678"),
        )
    )
    for contact in item.contacts:
        assert contact.status == ContactStatus.INVALID
        assert set(contact.details) == {"invalid_reason"}


def test_social_contacts_get_no_facts() -> None:
    item = Chain()(raw_lead(raw_contact(ContactKind.SOCIAL, "https://instagram.com/ana")))
    assert item.contacts[0].details == {}


def test_offline_facts_without_normalized_value() -> None:
    assert offline_facts(raw_contact(ContactKind.PHONE, "(11) 91234-5678")) == {}


def test_unverified_contacts_are_enriched_when_validate_is_off() -> None:
    crawler = get_crawler(settings_dict=project_settings())
    normalize = NormalizePipeline.from_crawler(crawler)
    enrich = EnrichPipeline.from_crawler(crawler)
    item = settle(
        enrich.process_item(
            normalize.process_item(raw_lead(raw_contact(ContactKind.EMAIL, "sac@uol.com.br")))
        )
    )
    assert item.contacts[0].details == {
        "free_provider": True,
        "role_address": True,
        "disposable": False,
    }


def test_dropped_lead_never_reaches_enrich() -> None:
    run = Chain()
    item = raw_lead(raw_contact(ContactKind.PHONE, "123"))
    item.display_name = None
    with pytest.raises(DropItem):
        run(item)
    assert run.stat("contacts/phone") is None


def test_other_items_pass_through() -> None:
    enrich = EnrichPipeline.from_crawler(get_crawler(settings_dict=project_settings()))
    other = {"x": 1}
    assert settle(enrich.process_item(other)) is other


def test_disabled() -> None:
    with pytest.raises(NotConfigured, match="ENRICH_ENABLED"):
        EnrichPipeline.from_crawler(
            get_crawler(settings_dict=project_settings(ENRICH_ENABLED=False))
        )


def test_from_crawler_keeps_crawler_and_stats() -> None:
    crawler = get_crawler(settings_dict=project_settings())
    pipeline = EnrichPipeline.from_crawler(crawler)
    assert pipeline.crawler is crawler
    assert pipeline.stats is crawler.stats


MX_ZONE = """
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
log-queries
local-ttl=300
local=/com.br/
mx-host=anacursos.com.br,mx1.anacursos.com.br,10
host-record=mx1.anacursos.com.br,192.0.2.10
mx-host=semcorreio.com.br,.,0
host-record=soendereco.com.br,192.0.2.11
"""


@pytest.fixture(scope="module")
def mx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    with running_dnsmasq(tmp_path_factory.mktemp("mx"), MX_ZONE, "mx1.anacursos.com.br") as server:
        yield server


def test_mx_status_lands_on_each_email(mx_server: DnsServer) -> None:
    run = Chain(ENRICH_DNS_ENABLED=True, ENRICH_DNS_NAMESERVERS=[mx_server.address])
    item = run(
        raw_lead(
            raw_contact(ContactKind.EMAIL, "ana@anacursos.com.br"),
            raw_contact(ContactKind.EMAIL, "contato@anacursos.com.br"),
            raw_contact(ContactKind.EMAIL, "ana@semcorreio.com.br"),
            raw_contact(ContactKind.EMAIL, "ana@soendereco.com.br"),
            raw_contact(ContactKind.EMAIL, "ana@naoexiste.com.br"),
        )
    )
    statuses = [(c.details["mx_status"], c.details["a_fallback"]) for c in item.contacts]
    assert statuses == [
        ("valid-mx", False),
        ("valid-mx", False),
        ("null-mx", False),
        ("no-mx", True),
        ("nxdomain", False),
    ]
    assert item.contacts[0].details["mx_hosts"] == ["mx1.anacursos.com.br"]
    assert item.enrichment["mx"] == "ok"
    assert mx_server.logged("anacursos.com.br") == 1  # one query per domain
    facts = build_facts(sighting_view(item))
    assert (facts.business_emails, facts.undeliverable_emails) == (3, 2)
    run.stages[-1].close_spider()  # type: ignore[union-attr]
    assert run.stat("success_rate") == 100.0
    assert run.stat("coverage/email") == 100.0
    assert run.stat("coverage/phone") == 0.0


def test_a_dns_timeout_keeps_the_lead_and_asks_for_a_retry() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives, never answers
        port = silent.getsockname()[1]
        run = Chain(
            ENRICH_DNS_ENABLED=True,
            ENRICH_DNS_NAMESERVERS=[f"127.0.0.1:{port}"],
            ENRICH_DNS_TIMEOUT=0.3,
        )
        item = run(raw_lead(raw_contact(ContactKind.EMAIL, "ana@anacursos.com.br")))
    [email] = item.contacts
    assert email.status == ContactStatus.VALID  # a timeout says nothing against the address
    assert email.details["mx_status"] == "dns-timeout"
    assert item.enrichment["mx"] == "retry: dns-timeout"
    assert build_facts(sighting_view(item)).business_emails == 1
    run.stages[-1].close_spider()  # type: ignore[union-attr]
    assert run.stat("success_rate") == 0.0
