"""Validate stage: contact verdicts with reasons, and which leads are dropped."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from leadcrawler.domain.cnpj import is_valid_cnpj
from leadcrawler.domain.items import ContactKind, ContactPoint, ContactStatus, Lead, Offer, Sighting
from leadcrawler.pipelines.normalize import NormalizePipeline
from leadcrawler.pipelines.validate import ValidatePipeline
from tests.support.factories import project_settings

PAGE = "https://pay.kiwify.com.br/46MiJGu"


def chain(**settings: object) -> tuple[NormalizePipeline, ValidatePipeline]:
    crawler = get_crawler(settings_dict=project_settings(**settings))
    return NormalizePipeline.from_crawler(crawler), ValidatePipeline.from_crawler(crawler)


def raw_contact(kind: ContactKind, value: str) -> ContactPoint:
    return ContactPoint(kind=kind, value=value, source_url=PAGE, method="test")


def raw_lead(**fields: object) -> Lead:
    return Lead(sighting=Sighting(source="kiwify", url=PAGE, spider="kiwify"), **fields)  # type: ignore[arg-type]


def run(item: Lead, **settings: object) -> tuple[Lead, ValidatePipeline]:
    normalize, validate = chain(**settings)
    return validate.process_item(normalize.process_item(item)), validate


def verdict(kind: ContactKind, value: str) -> tuple[ContactStatus, str | None]:
    item, _ = run(raw_lead(display_name="Ana", contacts=[raw_contact(kind, value)]))
    contact = item.contacts[0]
    return contact.status, contact.details.get("invalid_reason")


@pytest.mark.parametrize(
    "value",
    [
        "contato@loja.com.br",
        "user@exämple.com.br",
        "usuário@empresa.com.br",
        "Foo@GMAIL.com",
        "foo@gmail.com",
        "mailto:contato@loja.com.br?subject=oi",
        "con\u200btato@loja.com.br",  # zero-width space removed by normalize
        "contato@loja\u202e.com.br",  # U+202E removed by normalize
    ],
)
def test_valid_emails(value: str) -> None:
    assert verdict(ContactKind.EMAIL, value) == (ContactStatus.VALID, None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"john doe"@example.com', "quoted_local"),
        ("a@[127.0.0.1]", "ip_literal"),
        ("x@localhost", "special_use_domain"),
        ("contato@example.com", "special_use_domain"),
        ("logo@2x.png", "file_name"),
        ("icon@3x.webp", "file_name"),
        ("ivan@g\u043e\u043egle.com", "homoglyph"),
        ("a" * 250 + "@loja.com.br", "too_long"),
        ("contato(at)loja.com.br", "syntax"),  # de-obfuscation is the spider's job
        ("contato@empresa.combr", "unknown_tld"),
    ],
)
def test_invalid_emails(value: str, reason: str) -> None:
    assert verdict(ContactKind.EMAIL, value) == (ContactStatus.INVALID, reason)


@pytest.mark.parametrize(
    "value",
    [
        "(11) 91234-5678",
        "+55 11 9 1234-5678",
        "0 xx 11 91234-5678",
        "0800 123 4567",
        "\uff08\uff11\uff11\uff09 \uff19\uff11\uff12\uff13\uff14-\uff15\uff16\uff17\uff18",
        "+1 650 253 0000",
    ],
)
def test_valid_phones(value: str) -> None:
    assert verdict(ContactKind.PHONE, value) == (ContactStatus.VALID, None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("123", "too_short"),
        ("(11) 1234-5678", "invalid_number"),  # no BR number starts with 1
        ("91234-5678", "missing_area_code"),
        ("ligue já", "not_a_number"),
    ],
)
def test_invalid_phones(value: str, reason: str) -> None:
    assert verdict(ContactKind.PHONE, value) == (ContactStatus.INVALID, reason)


@pytest.mark.parametrize(
    ("value", "status", "reason"),
    [
        ("https://wa.me/5511987654321", ContactStatus.VALID, None),
        ("https://api.whatsapp.com/send?phone=5511987654321", ContactStatus.VALID, None),
        ("(11) 98765-4321", ContactStatus.VALID, None),
        ("https://chat.whatsapp.com/AbCdEf123", ContactStatus.INVALID, "group_invite"),
        ("https://wa.me/message/ABC123", ContactStatus.INVALID, "no_number"),
        ("https://wa.me/123", ContactStatus.INVALID, "no_number"),
        ("https://wa.me/55119876", ContactStatus.INVALID, "too_short"),
    ],
)
def test_whatsapp(value: str, status: ContactStatus, reason: str | None) -> None:
    assert verdict(ContactKind.WHATSAPP, value) == (status, reason)


def test_social() -> None:
    assert verdict(ContactKind.SOCIAL, "https://instagram.com/ana") == (ContactStatus.VALID, None)
    assert verdict(ContactKind.SOCIAL, "javascript:alert(1)") == (ContactStatus.INVALID, "bad_url")


def test_invalid_contacts_stay_on_the_lead_with_stats() -> None:
    item, validate = run(
        raw_lead(
            display_name="Ana",
            contacts=[
                raw_contact(ContactKind.EMAIL, "logo@2x.png"),
                raw_contact(ContactKind.EMAIL, "contato@loja.com.br"),
                raw_contact(ContactKind.PHONE, "123"),
            ],
        )
    )
    assert [c.status for c in item.contacts] == [
        ContactStatus.INVALID,
        ContactStatus.VALID,
        ContactStatus.INVALID,
    ]
    assert item.contacts[0].source_url == PAGE  # provenance kept
    stats = validate.stats
    assert stats.get_value("leadcrawler/validate/contact_invalid/file_name") == 1
    assert stats.get_value("leadcrawler/validate/contact_invalid/too_short") == 1
    assert stats.get_value("leadcrawler/validate/contact_valid/email") == 1
    assert stats.get_value("leadcrawler/validate/passed") == 1


def test_contact_not_normalised_is_invalid_even_if_it_looks_fine() -> None:
    # E.g. the normalize stage switched off: nothing unnormalised may count as usable.
    _, validate = chain()
    item = raw_lead(display_name="Ana", contacts=[raw_contact(ContactKind.EMAIL, "a@loja.com.br")])
    validate.process_item(item)
    assert item.contacts[0].status == ContactStatus.INVALID
    assert item.contacts[0].details["invalid_reason"] == "not_normalized"


def test_revalidation_clears_a_stale_reason() -> None:
    contact = raw_contact(ContactKind.EMAIL, "contato@loja.com.br")
    contact.details["invalid_reason"] = "syntax"
    item, _ = run(raw_lead(display_name="Ana", contacts=[contact]))
    assert item.contacts[0].status == ContactStatus.VALID
    assert "invalid_reason" not in item.contacts[0].details


# --- The drop rule ---------------------------------------------------------------------


def checkout_offer() -> Offer:
    return Offer(platform="kiwify", checkout_url=PAGE, product_name="Curso")


@pytest.mark.parametrize(
    "fields",
    [
        {"display_name": "Ana Souza"},
        {"legal_name": "ANA CURSOS LTDA"},
        {"cnpj": "11.222.333/0001-81"},
        {"website": "https://anacursos.com.br/"},
        {"contacts": [raw_contact(ContactKind.EMAIL, "ana@anacursos.com.br")]},
        {"contacts": [raw_contact(ContactKind.WHATSAPP, "https://wa.me/5511987654321")]},
        {"contacts": [raw_contact(ContactKind.SOCIAL, "https://instagram.com/ana")]},
    ],
    ids=["display_name", "legal_name", "cnpj", "own_domain", "email", "whatsapp", "social"],
)
def test_identifiable_or_reachable_leads_are_kept(fields: dict[str, object]) -> None:
    item, validate = run(raw_lead(offers=[checkout_offer()], **fields))
    assert item.offers
    assert validate.stats.get_value("leadcrawler/validate/passed") == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"offers": [checkout_offer()]}, "no_identity"),
        ({}, "no_identity"),
        ({"display_name": " \u200b\x00 "}, "no_identity"),  # a name that cleans to nothing
        ({"cnpj": "00.000.000/0000-00"}, "no_identity"),  # template placeholder
        ({"cnpj": "11.222.333/0001-82"}, "no_identity"),  # wrong check digit
        ({"website": "https://pay.kiwify.com.br/46MiJGu"}, "no_identity"),  # not their domain
        ({"website": "https://instagram.com/ana"}, "no_identity"),
        (
            {
                "offers": [checkout_offer()],
                "contacts": [
                    raw_contact(ContactKind.EMAIL, "logo@2x.png"),
                    raw_contact(ContactKind.PHONE, "123"),
                ],
            },
            "only_invalid_contacts",
        ),
    ],
    ids=[
        "checkout_only",
        "empty",
        "invisible_name",
        "placeholder_cnpj",
        "bad_cnpj",
        "platform_site",
        "social_site",
        "invalid_contacts",
    ],
)
def test_leads_without_identity_or_contact_are_dropped(
    fields: dict[str, object], reason: str
) -> None:
    normalize, validate = chain()
    item = normalize.process_item(raw_lead(**fields))
    with pytest.raises(DropItem, match=reason):
        validate.process_item(item)
    assert validate.stats.get_value(f"leadcrawler/validate/dropped/{reason}") == 1
    assert validate.stats.get_value("leadcrawler/validate/passed") is None


def test_drop_message_holds_no_personal_data() -> None:
    normalize, validate = chain()
    item = normalize.process_item(
        raw_lead(contacts=[raw_contact(ContactKind.PHONE, "(11) 1234-5678")])
    )
    with pytest.raises(DropItem) as caught:
        validate.process_item(item)
    assert "1234" not in str(caught.value)


def test_invalid_cnpj_is_removed_and_counted() -> None:
    item, validate = run(raw_lead(display_name="Ana", cnpj="11.222.333/0001-82"))
    assert item.cnpj is None
    assert validate.stats.get_value("leadcrawler/validate/cnpj_invalid") == 1


@pytest.mark.parametrize(
    ("cnpj", "ok"),
    [
        ("11222333000181", True),
        ("12ABC34501DE35", True),  # alphanumeric example published by Receita Federal
        ("11222333000182", False),
        ("00000000000000", False),
        ("11111111111111", False),
        ("1122233300018", False),
        ("1122233300018A", False),
        ("12abc34501de35", False),  # normalize upper-cases; lower case is not normalised
    ],
)
def test_is_valid_cnpj(cnpj: str, ok: bool) -> None:
    assert is_valid_cnpj(cnpj) is ok


def test_other_items_pass_through() -> None:
    _, validate = chain()
    other = {"x": 1}
    assert validate.process_item(other) is other


def test_disabled() -> None:
    with pytest.raises(NotConfigured, match="VALIDATE_ENABLED"):
        ValidatePipeline.from_crawler(
            get_crawler(settings_dict=project_settings(VALIDATE_ENABLED=False))
        )


def test_from_crawler_keeps_crawler_and_stats() -> None:
    crawler = get_crawler(settings_dict=project_settings())
    pipeline = ValidatePipeline.from_crawler(crawler)
    assert pipeline.crawler is crawler
    assert pipeline.stats is crawler.stats
