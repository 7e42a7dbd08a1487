"""Extraction helpers: meta, JSON-LD, visible text and BRL prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from scrapy.http import HtmlResponse

from leadcrawler.extract import (
    STRUCK,
    json_ld,
    meta,
    page_price,
    parse_brl,
    to_decimal,
    visible_text,
)


def page(body: str) -> HtmlResponse:
    return HtmlResponse("https://pay.kiwify.com.br/AbC1234", body=body, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R$ 97,00", Decimal("97.00")),
        ("R$1.497,00", Decimal("1497.00")),
        ("por apenas R$ 47", Decimal("47.00")),
        ("R$ 12.345.678,90", Decimal("12345678.90")),
        ("sem preço", None),
    ],
)
def test_parse_brl(text: str, expected: Decimal | None) -> None:
    assert parse_brl(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12x de R$ 19,90 ou R$ 197,00 à vista", Decimal("197.00")),
        ("12 x R$ 19,90 — R$ 197,00", Decimal("197.00")),
        ("De R$ 297,00 por R$ 197,00 a vista", Decimal("197.00")),
        ("Total: R$ 97,00", Decimal("97.00")),
        ("12x de R$ 9,90", None),
    ],
)
def test_page_price_prefers_the_cash_price(text: str, expected: Decimal | None) -> None:
    assert page_price(text) == expected


def test_to_decimal_rejects_garbage() -> None:
    assert to_decimal("97,50") == Decimal("97.50")
    assert to_decimal(197) == Decimal("197")
    assert to_decimal("NaN") is None
    assert to_decimal("-5") is None
    assert to_decimal("grátis") is None


def test_meta_falls_back_in_order() -> None:
    response = page(
        '<html><head><meta property="og:title" content="  ">'
        '<meta name="twitter:title" content="Curso X"></head></html>'
    )
    assert meta(response, "og:title", "twitter:title") == "Curso X"
    assert meta(response, "og:description") is None


def test_json_ld_flattens_graphs_and_skips_bad_json() -> None:
    response = page(
        '<script type="application/ld+json">{not json</script>'
        '<script type="application/ld+json">{"@graph": [{"@type": "Product", "name": "A"},'
        ' {"@type": "Organization", "name": "B"}]}</script>'
        '<script type="application/ld+json">[{"@type": "Product", "name": "C"}]</script>'
    )
    assert sorted(node.get("name") for node in json_ld(response) if "name" in node) == [
        "A",
        "B",
        "C",
    ]


def test_visible_text_ignores_scripts_and_collapses_space() -> None:
    response = page(
        "<body><script>var x = 'em nome de Hacker';</script><p>em nome de\n  <b>Ana</b>"
        "</p><style>p{}</style><noscript>ative o JS</noscript></body>"
    )
    assert visible_text(response) == "em nome de Ana"


def test_struck_out_and_de_por_prices_are_old_prices() -> None:
    assert page_price("De R$ 147,00 por R$ 97,00") == Decimal("97.00")
    response = page("<body><s>R$ 147,00</s> <span>R$ 97,00</span></body>")
    assert page_price(visible_text(response, skip=STRUCK)) == Decimal("97.00")
    assert page_price(visible_text(response)) == Decimal("147.00")
