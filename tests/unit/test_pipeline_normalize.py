"""Normalize stage: what a spider yields comes out in one canonical spelling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from leadcrawler.domain.cnpj import normalize_cnpj
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead, Offer, Sighting
from leadcrawler.domain.text import MAX_TEXT_LENGTH
from leadcrawler.domain.urls import own_domain
from leadcrawler.enricher.config import ConfigError
from leadcrawler.pipelines.normalize import NormalizePipeline
from tests.support.factories import project_settings

PAGE = "https://pay.kiwify.com.br/46MiJGu"


def make(**settings: object) -> NormalizePipeline:
    return NormalizePipeline.from_crawler(get_crawler(settings_dict=project_settings(**settings)))


def raw_contact(kind: ContactKind, value: str, source_url: str = PAGE) -> ContactPoint:
    return ContactPoint(kind=kind, value=value, source_url=source_url, method="test")


def raw_lead(**fields: object) -> Lead:
    return Lead(sighting=Sighting(source="kiwify", url=PAGE, spider="kiwify"), **fields)  # type: ignore[arg-type]


def stat(pipeline: NormalizePipeline, key: str) -> object:
    return pipeline.stats.get_value(f"leadcrawler/normalize/{key}")


def test_names_are_cleaned() -> None:
    pipeline = make()
    item = pipeline.process_item(
        raw_lead(display_name="  Ana\u200b\u00a0 Souza\x00 ", legal_name="\u202eANA CURSOS LTDA\n")
    )
    assert item.display_name == "Ana Souza"
    assert item.legal_name == "ANA CURSOS LTDA"
    assert stat(pipeline, "leads") == 1


@pytest.mark.parametrize(
    "name", ["Robert'); DROP TABLE leads;--", "O'Brien", "' OR '1'='1", "D\u2019Avila"]
)
def test_sql_looking_names_pass_through_unchanged(name: str) -> None:
    item = make().process_item(raw_lead(display_name=name))
    assert item.display_name == name


def test_hostile_names_are_bounded_and_storable() -> None:
    item = make().process_item(raw_lead(display_name="A" * 100_000, legal_name="\x00\x00"))
    assert item.display_name == "A" * MAX_TEXT_LENGTH
    assert item.legal_name is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.345.678/0001-95", "12345678000195"),
        ("12345678000195", "12345678000195"),
        ("CNPJ: 12.345.678/0001-95", "12345678000195"),
        (" 12 345 678 0001 95 ", "12345678000195"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),  # alphanumeric CNPJ (from July 2026)
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("123.456.789-09", None),  # a CPF: a person's number, never kept as a CNPJ
        ("12.345.678/0001", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_cnpj(raw: str | None, expected: str | None) -> None:
    assert normalize_cnpj(raw) == expected


def test_cnpj_on_the_lead() -> None:
    pipeline = make()
    good = pipeline.process_item(raw_lead(cnpj="11.222.333/0001-81"))
    bad = pipeline.process_item(raw_lead(cnpj="123.456.789-09"))
    assert good.cnpj == "11222333000181"
    assert bad.cnpj is None
    assert stat(pipeline, "dropped_field/cnpj") == 1


@pytest.mark.parametrize(
    ("website", "canonical", "domain"),
    [
        ("https://WWW.AnaCursos.com.br/?utm_source=ig#top", "https://www.anacursos.com.br/",
         "anacursos.com.br"),
        ("www.anacursos.com.br", "https://www.anacursos.com.br/", "anacursos.com.br"),
        ("https://ana.myshopify.com/", "https://ana.myshopify.com/", "ana.myshopify.com"),
        # Platform pages and social profiles are not the producer's own domain.
        ("https://pay.kiwify.com.br/46MiJGu?afid=1", "https://pay.kiwify.com.br/46MiJGu", None),
        ("https://kiwify.com.br/", "https://kiwify.com.br/", None),
        ("https://www.instagram.com/anacursos/", "https://www.instagram.com/anacursos/", None),
        ("https://linktr.ee/anacursos", "https://linktr.ee/anacursos", None),
        ("http://127.0.0.1/", "http://127.0.0.1/", None),
    ],
)  # fmt: skip
def test_website_and_domain(website: str, canonical: str, domain: str | None) -> None:
    item = make().process_item(raw_lead(website=website, domain="spider-guess.com"))
    assert item.website == canonical
    assert item.domain == domain


@pytest.mark.parametrize("website", ["javascript:alert(1)", "file:///etc/passwd", "contato"])
def test_unusable_website_is_removed(website: str) -> None:
    pipeline = make()
    item = pipeline.process_item(raw_lead(website=website))
    assert item.website is None
    assert item.domain is None
    assert stat(pipeline, "dropped_field/website") == 1


def test_own_domain() -> None:
    assert own_domain("https://loja.com.br/") == "loja.com.br"
    assert own_domain("https://members.kiwify.com/") is None  # a platform's private host
    assert own_domain(None) is None


def test_contacts_get_normalized_values() -> None:
    pipeline = make()
    item = pipeline.process_item(
        raw_lead(
            contacts=[
                raw_contact(ContactKind.EMAIL, "mailto:Ana.Souza@CURSOS.com.br?subject=oi"),
                raw_contact(ContactKind.PHONE, "(11) 91234-5678"),
                raw_contact(ContactKind.PHONE, "0800 123 4567"),
                raw_contact(ContactKind.WHATSAPP, "https://wa.me/5511987654321?text=oi"),
                raw_contact(ContactKind.WHATSAPP, "(21) 99876-5432"),
                raw_contact(ContactKind.SOCIAL, "instagram.com/anacursos?igshid=x"),
            ]
        )
    )
    assert [c.normalized for c in item.contacts] == [
        "Ana.Souza@cursos.com.br",
        "+5511912345678",
        "+558001234567",
        "+5511987654321",
        "+5521998765432",
        "https://instagram.com/anacursos",
    ]
    # Raw values and statuses are untouched: validate decides.
    assert item.contacts[0].value == "mailto:Ana.Souza@CURSOS.com.br?subject=oi"
    assert all(c.status == ContactStatus.UNVERIFIED for c in item.contacts)
    assert stat(pipeline, "unnormalized/email") is None


def test_unnormalisable_contacts_keep_none() -> None:
    pipeline = make()
    item = pipeline.process_item(
        raw_lead(
            contacts=[
                raw_contact(ContactKind.EMAIL, '"john doe"@example.com'),
                raw_contact(ContactKind.EMAIL, "x@localhost"),
                raw_contact(ContactKind.PHONE, "123"),
                raw_contact(ContactKind.WHATSAPP, "https://chat.whatsapp.com/AbCdEf"),
                raw_contact(ContactKind.SOCIAL, "javascript:alert(1)"),
            ]
        )
    )
    assert [c.normalized for c in item.contacts] == [None] * 5
    assert len(item.contacts) == 5  # kept, with their provenance
    assert stat(pipeline, "unnormalized/email") == 2
    assert stat(pipeline, "unnormalized/phone") == 1
    assert stat(pipeline, "unnormalized/whatsapp") == 1
    assert stat(pipeline, "unnormalized/social") == 1


def test_default_region_setting_is_used() -> None:
    item = make(NORMALIZE_DEFAULT_REGION="PT").process_item(
        raw_lead(contacts=[raw_contact(ContactKind.PHONE, "912 345 678")])
    )
    assert item.contacts[0].normalized == "+351912345678"


def test_offers_are_canonical_and_free_of_buyer_data() -> None:
    pipeline = make()
    item = pipeline.process_item(
        raw_lead(
            offers=[
                Offer(
                    platform="kiwify",
                    checkout_url="https://pay.kiwify.com.br/46MiJGu?email=buyer%40gmail.com&cpf=12345678909&name=Maria",
                    product_name="  Curso\u200b de\nBolos ",
                    price_brl=Decimal("97.00"),
                    seller_id=" Xk2Pq9LmN3bV7cR\u200b",
                ),
                Offer(platform="kiwify", checkout_url="javascript:alert(1)"),
                Offer(
                    platform="hubla", checkout_url="pay.hub.la/pNvftlqYLpsT2RlpwLID?utm_source=x"
                ),
            ]
        )
    )
    assert [o.checkout_url for o in item.offers] == [
        "https://pay.kiwify.com.br/46MiJGu",
        "https://pay.hub.la/pNvftlqYLpsT2RlpwLID",
    ]
    assert item.offers[0].product_name == "Curso de Bolos"
    assert item.offers[0].seller_id == "Xk2Pq9LmN3bV7cR"
    assert item.offers[0].price_brl == Decimal("97.00")
    assert stat(pipeline, "dropped_offer/bad_checkout_url") == 1
    assert "buyer" not in repr(item)
    assert "12345678909" not in repr(item)


def test_provenance_urls_lose_buyer_data() -> None:
    item = raw_lead(
        contacts=[
            raw_contact(
                ContactKind.EMAIL,
                "contato@loja.com.br",
                source_url="https://loja.com.br/contato?email=buyer%40gmail.com&utm_source=x",
            )
        ]
    )
    item.sighting.url = "https://pay.kiwify.com.br/46MiJGu?email=buyer%40gmail.com"
    make().process_item(item)
    assert item.sighting.url == "https://pay.kiwify.com.br/46MiJGu"
    assert item.contacts[0].source_url == "https://loja.com.br/contato"


def test_contacts_found_where_the_lead_was_seen_get_the_same_canonical_url() -> None:
    seen = "https://www.Loja.com.br/contato?utm_source=x&email=buyer%40gmail.com#top"
    not_http = "list:clientes.csv#line=7"
    item = raw_lead(
        contacts=[
            raw_contact(ContactKind.EMAIL, "contato@loja.com.br", source_url=seen),
            raw_contact(ContactKind.PHONE, "(11) 3456-7890", source_url=seen),
            raw_contact(ContactKind.PHONE, "(11) 3456-7891", source_url=PAGE + "?email=b%40c.com"),
        ]
    )
    item.sighting.url = seen
    make().process_item(item)
    assert item.sighting.url == "https://www.loja.com.br/contato"
    assert [c.source_url for c in item.contacts] == [item.sighting.url] * 2 + [PAGE]
    # A value that is no http(s) URL stays as it was, on the sighting and the contacts.
    item = raw_lead(contacts=[raw_contact(ContactKind.PHONE, "(11) 3456-7890", not_http)])
    item.sighting.url = not_http
    make().process_item(item)
    assert (item.sighting.url, item.contacts[0].source_url) == (not_http, not_http)


def test_other_items_pass_through() -> None:
    pipeline = make()
    other = {"name": " x "}
    assert pipeline.process_item(other) is other
    assert other == {"name": " x "}
    assert stat(pipeline, "leads") is None


def test_disabled() -> None:
    with pytest.raises(NotConfigured, match="NORMALIZE_ENABLED"):
        make(NORMALIZE_ENABLED=False)


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ConfigError, match="NORMALIZE_DEFAULT_REGION"):
        make(NORMALIZE_DEFAULT_REGION="XX")


def test_from_crawler_keeps_crawler_and_stats() -> None:
    crawler = get_crawler(settings_dict=project_settings())
    pipeline = NormalizePipeline.from_crawler(crawler)
    assert pipeline.crawler is crawler
    assert pipeline.stats is crawler.stats
    assert pipeline.default_region == "BR"


@pytest.mark.parametrize(
    ("raw", "e164", "repaired"),
    [
        ("(21) 8765-4321", "+5521987654321", "ninth_digit"),  # legacy 8-digit mobile
        ("0 xx 11 98765-4321", "+5511987654321", None),  # carrier prefix: same number
        ("(11) 3456-7890", "+551134567890", None),  # a landline is left alone
    ],
)
def test_brazilian_phones_are_repaired_and_say_so(
    raw: str, e164: str, repaired: str | None
) -> None:
    pipeline = make()
    item = pipeline.process_item(raw_lead(contacts=[raw_contact(ContactKind.PHONE, raw)]))
    [phone] = item.contacts
    assert phone.normalized == e164
    assert phone.details.get("repaired") == repaired
    assert phone.value == raw  # the spelling found stays


def test_repair_can_be_switched_off() -> None:
    pipeline = make(NORMALIZE_PHONE_REPAIR=False)
    item = pipeline.process_item(
        raw_lead(contacts=[raw_contact(ContactKind.PHONE, "(21) 8765-4321")])
    )
    assert "repaired" not in item.contacts[0].details
