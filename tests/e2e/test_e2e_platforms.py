"""Nine more platforms, each only data in platforms.toml, crawled end to end with the
README's commands and defaults: serp discovery into the frontier, then ``scrapy crawl
<platform>`` (the generic ladder spider) into the base. A tenth, defined only in a test
file, needs no Python either."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leadcrawler.domain.platforms import load_platforms
from tests.e2e.test_e2e_discovery import frontier_rows
from tests.e2e.test_e2e_kiwify import leads
from tests.e2e.test_render import chromium  # noqa: F401  (the fixture)

SEARX = "-sSERP_SEARXNG_URL=https://searx.fixtures.com.br"
NINE = (
    "eduzz",
    "monetizze",
    "braip",
    "ticto",
    "cakto",
    "kirvano",
    "greenn",
    "perfectpay",
    "lastlink",
)
# What each fixture page says (written from the platforms' public URL patterns; every page
# has its own structure: JSON-LD, plain text, Nuxt 3 state, Next.js state, app-router rows,
# Nuxt 2 state, a checkout that only exists after JavaScript, server-rendered text).
EXPECTED: dict[str, dict[str, Any]] = {
    "eduzz": {
        "url": "https://sun.eduzz.com/1987654",
        "producer": "Carla Menezes",
        "product": "Marmitas Congeladas Lucrativas",
        "price": "147.00",
        "contacts": {"https://www.instagram.com/carlamenezes.marmitas"},
    },
    "monetizze": {
        "url": "https://app.monetizze.com.br/checkout/DKX214788",
        "producer": "Ricardo Tavares Paisagismo",
        "product": "Horta Vertical no Apartamento",
        "price": "97.00",  # "De R$ 197,00 por R$ 97,00": the old price is not the price
        "contacts": {"contato@ricardotavares.com.br"},
    },
    "braip": {
        "url": "https://ev.braip.com/checkout/pl7Xk2Qa/che9Lm3Tz",
        "producer": "Pr. Daniel Fonseca",
        "product": "Violão Gospel em 30 Dias",
        "price": "67.90",
        "contacts": {"suporte@violaogospel.com.br"},
    },
    "ticto": {
        "url": "https://checkout.ticto.app/O4K7P2M9",
        "producer": "Fluente com Aline",
        "product": "Inglês para Viagem: 60 Frases",
        "price": "39.90",
        "contacts": {"+5521987001122", "https://www.instagram.com/fluentecomaline"},
    },
    "cakto": {
        "url": "https://pay.cakto.com.br/cKt9w2Xa",
        "producer": "Ateliê Lavanda Verde",
        "product": "Sabonetes Artesanais Veganos",
        "price": "59.90",
        "contacts": {"ola@lavandaverde.com.br"},
    },
    "kirvano": {
        "url": "https://pay.kirvano.com/7d1e5a90-3c2b-4f6e-9a8d-1b2c3d4e5f60",
        "producer": "Mariana Couto Consultoria do Sono",
        "product": "Método Sono Tranquilo para Bebês",
        "price": "127.00",  # the state's 12700 is not R$ 12.700,00: the page shows R$ 127,00
        "contacts": {"+5531988112040", "contato@marianacouto.com.br"},
    },
    "greenn": {
        "url": "https://payfast.greenn.com.br/55821",
        "producer": "Tia Bete Crochê",
        "product": "Crochê Amigurumi do Zero",
        "price": "89.00",
        "contacts": set(),
    },
    "perfectpay": {  # only exists after JavaScript: read through the browser rung
        "url": "https://go.perfectpay.com.br/PPU38CNFK2",
        "producer": "Renato Quintela Fotografia",
        "product": "Fotografia de Produto com o Celular",
        "price": "79.90",
        "contacts": set(),
    },
    "lastlink": {
        "url": "https://lastlink.com/p/CX4Z81QW/checkout-payment",
        "producer": "Nath Arruda",
        "product": "Mentoria Finanças a Dois",
        "price": "497.00",
        "contacts": {"+5511976508833"},
    },
}


def valid_values(row: dict[str, Any]) -> set[str]:
    return {str(c["value"]).rstrip("/") for c in row["contacts"] if c["status"] != "invalid"}


def test_each_platform_is_data_with_discovery_dorks() -> None:
    platforms = load_platforms()
    for key in NINE:
        platform = platforms[key]
        assert platform.dorks, key
        assert platform.product_id(EXPECTED[key]["url"]), key
        assert all(dork.startswith("site:") for dork in platform.dorks)
    assert not (Path(__file__).resolve().parents[2] / "leadcrawler/spiders/eduzz.py").exists()


@pytest.mark.usefixtures("fixture_web", "chromium")  # PerfectPay's checkout needs the browser
def test_nine_platforms_from_discovery_to_the_base(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    serp = run_crawl("serp", sqlite_url, "query=curso", SEARX)
    assert serp.returncode == 0, serp.log[-3000:]
    rows = frontier_rows(sqlite_url)
    assert {case["url"] for case in EXPECTED.values()} <= set(rows)
    assert "https://lastlink.com/login" not in rows  # not a product page
    for key in NINE:
        crawl = run_crawl(key, sqlite_url)  # the README's command: drain the frontier
        assert crawl.returncode == 0, crawl.log[-3000:]
        assert "Traceback" not in crawl.log, crawl.log[-3000:]
        assert f"'{key}/frontier/done': 1" in crawl.log, (key, crawl.log[-3000:])
    by_name = {row["name"]: row for row in leads(sqlite_url)}
    for key, case in EXPECTED.items():
        row = by_name.get(case["producer"])
        assert row is not None, (key, sorted(by_name))
        [offer] = [o for o in row["offers"] if o["platform"] == key]
        assert offer["checkout_url"] == case["url"]
        assert offer["product_name"] == case["product"]
        assert Decimal(str(offer["price_brl"])) == Decimal(case["price"]), key
        assert case["contacts"] <= valid_values(row), (key, valid_values(row))
    # Nothing of the platforms themselves, nor of the buyer forms.
    for row in by_name.values():
        for value in valid_values(row):
            assert not any(
                word in value
                for word in ("eduzz.com", "monetizze", "lastlink.com", "exemplo", "email.com")
            ), value


TENTH = """
[vendeja]
name = "VendeJá"
hosts = ["pay.vendeja.com.br"]
product_paths = ['^/c/(?P<id>[A-Za-z0-9]{6})/?$']
dorks = ["site:pay.vendeja.com.br/c"]
private_hosts = ["painel.vendeja.com.br"]
money_in_state = "cents"
"""


def test_a_tenth_platform_needs_no_python(run_crawl, tmp_path: Path, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "more_platforms.toml"
    toml.write_text(TENTH, "utf-8")
    extra = f"-sPLATFORMS_EXTRA_FILES={toml}"
    url = "https://pay.vendeja.com.br/c/Qw7Er2?src=instagram"
    crawl = run_crawl("vendeja", sqlite_url, f"urls={url}", extra)
    assert crawl.returncode == 0, crawl.log[-3000:]
    [row] = leads(sqlite_url)
    assert row["name"] == "Doces da Vó Nena"
    [offer] = row["offers"]
    assert offer["platform"] == "vendeja"
    assert offer["checkout_url"] == "https://pay.vendeja.com.br/c/Qw7Er2"
    assert offer["product_name"] == "Brigadeiros Gourmet para Vender"
    assert Decimal(str(offer["price_brl"])) == Decimal("49.90")  # 4990 cents, by its convention
    assert "+5547992173080" in valid_values(row)
    # A broken file is a one-line error, not a traceback.
    toml.write_text("[vendeja]\nname = 'x'\n", "utf-8")
    bad = run_crawl("vendeja", sqlite_url, f"urls={url}", extra)
    assert bad.returncode != 0
    assert "platform 'vendeja': hosts is required" in bad.stderr
    assert "Traceback" not in bad.stderr
