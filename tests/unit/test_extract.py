"""Extraction helpers: meta, JSON-LD, visible text and BRL prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from scrapy.http import HtmlResponse

from leadcrawler.extraction.labels import STRUCK, visible_text
from leadcrawler.extraction.prices import page_price, parse_brl, to_decimal
from leadcrawler.extraction.structured import json_ld, meta


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


# --- Rung 2: embedded page state ------------------------------------------------------------


def test_next_data_reads_the_pages_router_state() -> None:
    from leadcrawler.extraction.state import next_data

    state = '{"props": {"pageProps": {"seller": {"name": "Ana"}}}, "page": "/[id]"}'
    response = page(f'<script id="__NEXT_DATA__" type="application/json">{state}</script>')
    assert next_data(response) == {
        "props": {"pageProps": {"seller": {"name": "Ana"}}},
        "page": "/[id]",
    }
    assert next_data(page("<p>sem estado</p>")) is None
    assert next_data(page('<script id="__NEXT_DATA__">{"props": {"pagePro</script>')) is None
    assert next_data(page('<script id="__NEXT_DATA__">[1, 2]</script>')) is None
    deep = "[" * 100_000 + "]" * 100_000  # json.loads recursion bomb
    assert next_data(page(f'<script id="__NEXT_DATA__">{deep}</script>')) is None


def test_revive_nuxt_resolves_references_and_tags() -> None:
    from leadcrawler.extraction.state import revive_nuxt

    payload = [
        ["ShallowReactive", 1],
        {"data": 2, "state": 8, "once": 10, "missing": -1, "zero": -6},
        ["ShallowReactive", 3],
        {"product": 4, "tags": 7},
        {"name": 5, "seller": 6, "again": 6},
        "Curso X",
        {"name": 5},
        ["Set", 5, 11],
        ["Reactive", 9],
        {"when": 12, "map": 13, "plain": 14, "big": 15, "custom": 16},
        ["Set"],
        "outro",
        ["Date", "2024-05-01T12:00:00.000Z"],
        ["Map", 5, 11],
        ["null", "chave", 5],
        ["BigInt", "12345678901234567890"],
        ["EmptyRef", 5],
    ]
    revived = revive_nuxt(payload)
    assert revived["data"]["product"]["name"] == "Curso X"
    assert revived["data"]["product"]["seller"] == {"name": "Curso X"}
    # A value referenced twice is revived once and shared.
    assert revived["data"]["product"]["again"] is revived["data"]["product"]["seller"]
    assert revived["data"]["tags"] == ["Curso X", "outro"]
    assert revived["missing"] is None and revived["zero"] == 0
    assert revived["once"] == []
    assert revived["state"] == {
        "when": "2024-05-01T12:00:00.000Z",
        "map": {"Curso X": "outro"},
        "plain": {"chave": "Curso X"},
        "big": "12345678901234567890",
        "custom": "Curso X",
    }


def test_revive_nuxt_is_safe_on_hostile_payloads() -> None:
    from leadcrawler.extraction.state import MAX_JSON_DEPTH, revive_nuxt

    # A cycle, an index out of range, a boolean and a float where indexes go, a bad tag.
    cyclic = [{"self": 0, "child": 1}, {"parent": 0, "out": 99, "flag": True, "f": 1.5}]
    revived = revive_nuxt(cyclic)
    assert revived == {
        "self": None,
        "child": {"parent": None, "out": None, "flag": None, "f": None},
    }
    assert revive_nuxt([["Unknown", 1, 2, 3]]) is None
    assert revive_nuxt([]) is None
    assert revive_nuxt({"not": "a list"}) is None
    assert revive_nuxt("text") is None
    # A chain deeper than the bound is cut, not followed until the stack overflows.
    chain: list[object] = [[i + 1] for i in range(10_000)] + ["end"]
    revived = revive_nuxt(chain)
    depth = 0
    while isinstance(revived, list) and revived:
        revived = revived[0]
        depth += 1
    assert revived is None
    assert depth <= MAX_JSON_DEPTH + 1


def test_nuxt_data_reads_the_payload_script() -> None:
    from leadcrawler.extraction.state import nuxt_data

    payload = (
        '[["ShallowReactive",1],{"data":2},{"checkout":3},{"producer":4},{"name":5},"Ana Lima"]'
    )
    response = page(
        f'<script type="application/json" data-ssr="true" id="__NUXT_DATA__">{payload}</script>'
    )
    assert nuxt_data(response) == {"data": {"checkout": {"producer": {"name": "Ana Lima"}}}}
    assert nuxt_data(page('<script id="__NUXT_DATA__">not json</script>')) is None
    assert nuxt_data(page("<div id='__nuxt'></div>")) is None


def test_window_nuxt_reads_only_json_literals() -> None:
    from leadcrawler.extraction.state import window_nuxt

    literal = page('<script>window.__NUXT__ = {"state": {"seller": "Ana"}};</script>')
    assert window_nuxt(literal) == {"state": {"seller": "Ana"}}
    # Nuxt 2's usual form is a function call: never evaluated.
    call = page('<script>window.__NUXT__=(function(a){return {seller:a}}("Ana"));</script>')
    assert window_nuxt(call) is None
    assert window_nuxt(page("<p>nada</p>")) is None


def test_next_flight_joins_chunks_and_keeps_json_rows() -> None:
    import json

    from leadcrawler.extraction.state import next_flight

    rows = '1:HL["/a.css","style"]\n2:I[1,["x.js"],"Checkout"]\n0:["$","$L2",null,{"seller":{"name":"Ana"}}]\n'
    cut = rows.index('{"seller"') + 5
    pushes = "".join(
        f"<script>self.__next_f.push({json.dumps([1, chunk])})</script>"
        for chunk in (rows[:cut], rows[cut:])
    )
    response = page(f"<script>(self.__next_f=self.__next_f||[]).push([0])</script>{pushes}")
    assert next_flight(response) == [["$", "$L2", None, {"seller": {"name": "Ana"}}]]
    assert next_flight(page("<script>self.__next_f.push([1, 'js, not json'])</script>")) is None
    assert next_flight(page("<p>nada</p>")) is None


def test_find_values_matches_keys_loosely_shallow_first() -> None:
    from leadcrawler.extraction.state import find_values

    data = {
        "deep": {"inner": {"support_email": "fundo@loja.com.br"}},  # as deep as the list's
        "supportEmail": "raso@loja.com.br",
        "list": [{"Support-Email": "lista@loja.com.br"}],
        "customer": {"supportEmail": "comprador@gmail.com"},
    }
    found = list(find_values(data, {"supportEmail"}, skip={"customer"}))
    assert found == [
        ("supportEmail", "raso@loja.com.br"),
        ("support_email", "fundo@loja.com.br"),
        ("Support-Email", "lista@loja.com.br"),
    ]


def test_walk_json_is_bounded_and_cycle_safe() -> None:
    from leadcrawler.extraction.state import find_values, walk_json

    cyclic: dict[str, object] = {"name": "Ana"}
    cyclic["self"] = cyclic
    cyclic["list"] = [cyclic, {"name": "Bia"}]
    assert [v for _k, v in find_values(cyclic, {"name"})] == ["Ana", "Bia"]
    assert list(walk_json("not a container")) == []
    assert list(walk_json(None)) == []
    wide = {f"k{i}": i for i in range(1000)}
    assert len(list(walk_json(wide, max_nodes=10))) == 10
    nested: dict[str, object] = {"name": "fundo"}
    for _ in range(200):
        nested = {"child": nested}
    assert list(find_values(nested, {"name"})) == []  # deeper than MAX_JSON_DEPTH


def test_state_facts_reads_the_producer_and_leaves_buyer_and_platform_alone() -> None:
    from leadcrawler.domain.items import ContactKind
    from leadcrawler.extraction.producer import state_facts

    state = {
        "props": {
            "pageProps": {
                "product": {
                    "name": "Curso de Pão Caseiro",
                    "priceInCents": 9700,
                    "installments": [{"price": 9.7}],
                    "seller": {
                        "id": "U4nQ9xPz2LmK7wRt5YbVc3Hs8DfG",
                        "displayName": "Padaria da Bia",
                        "legalName": "Bia Pães Artesanais Ltda",
                        "cnpj": "47.281.593/0001-75",
                        "whatsapp": "+55 11 98765-0001",
                        "instagram": "@padariadabia",
                        "website": "https://www.padariadabia.com.br",
                        "avatar": "https://cdn.exemplo-cdn.com/bia.png",
                    },
                    "supportEmail": "contato@padariadabia.com.br",
                },
                "offer": {"name": "Plano à vista"},
                "customer": {"email": "comprador@gmail.com", "phone": "+55 11 91111-2222"},
                "related": [{"seller": {"displayName": "Outra Loja", "email": "x@outra.com.br"}}],
            }
        },
        "runtimeConfig": {"supportEmail": "ajuda@hotmart.com"},
        "app": {"supportWhatsapp": "+55 11 3000-0000", "helpEmail": "ajuda@hub.la"},
    }
    facts = state_facts(state)
    assert facts.producers == ["Padaria da Bia"]
    assert facts.legal_names == ["Bia Pães Artesanais Ltda"]
    assert facts.seller_ids == ["U4nQ9xPz2LmK7wRt5YbVc3Hs8DfG"]
    assert facts.cnpjs == ["47.281.593/0001-75"]
    assert facts.websites == ["https://www.padariadabia.com.br"]
    assert facts.products[0] == "Curso de Pão Caseiro"
    assert facts.prices == [Decimal("97.00")]
    assert set(facts.contacts) == {
        (ContactKind.EMAIL, "contato@padariadabia.com.br"),
        (ContactKind.WHATSAPP, "+55 11 98765-0001"),
        (ContactKind.SOCIAL, "https://www.instagram.com/padariadabia/"),
    }


def test_state_facts_prices_in_other_currencies_are_not_taken() -> None:
    from leadcrawler.extraction.producer import state_facts

    assert state_facts({"product": {"price": {"value": 19, "currency": "USD"}}}).prices == []
    assert state_facts({"product": {"price": 19, "currencyCode": "EUR"}}).prices == []
    assert state_facts({"product": {"price": "R$ 1.497,00"}}).prices == [Decimal("1497.00")]
    assert state_facts({"product": {"price": 0}}).prices == []


def test_labelled_names_in_text() -> None:
    from leadcrawler.extraction.labels import labelled_name

    assert labelled_name(["Autor: Ana D'Ávila"]) == "Ana D'Ávila"
    assert labelled_name(["Produtor:", "Rafael Monteiro", "Acesso:"]) == "Rafael Monteiro"
    sentence = "Este curso é vendido por Dra. Camila Nogueira. Garantia de 7 dias."
    assert labelled_name([sentence]) == "Dra. Camila Nogueira"
    assert labelled_name(["Vendido por Educação Financeira Ltda. CNPJ 00.000.000/0001-00"]) == (
        "Educação Financeira Ltda"
    )
    assert labelled_name(["Criado por", "Marcos V. Teixeira", "em 2023"]) == "Marcos V. Teixeira"
    # Running text and the platform are not producers.
    assert labelled_name(["Conheça o produtor do curso"]) is None
    assert labelled_name(["Produtor independente desde 2010"]) is None
    assert labelled_name(["Desenvolvido por Hotmart"]) is None
    assert labelled_name(["Nota fiscal emitida em nome de quem comprou"]) is None


def test_product_title_drops_the_platforms_part() -> None:
    from leadcrawler.extraction.producer import product_title

    assert product_title("Curso X | Hotmart") == "Curso X"
    assert product_title("Hubla - Curso X — Turma 3") == "Curso X — Turma 3"
    assert product_title("Checkout Hotmart") is None
    assert product_title("Checkout") is None
    assert product_title("  ") is None


def test_platform_owned_and_plausible_names() -> None:
    from leadcrawler.extraction.producer import platform_owned, plausible_name

    for owned in (
        "suporte@hub.la",
        "mailto:ajuda@hotmart.com?subject=oi",
        "ajuda@hotmart.com.br",
        "https://help.kiwify.com.br/pt-br",
        "https://www.instagram.com/hotmart/",
    ):
        assert platform_owned(owned), owned
    for own in ("contato@anadavilaconfeitaria.com.br", "https://www.instagram.com/ana.doces/"):
        assert not platform_owned(own), own
    assert plausible_name("  Ana   Lima ") == "Ana Lima"
    assert plausible_name("Studio 54 Dança") == "Studio 54 Dança"
    ids = ("axTmknuj64AX6VM2ewMuBY6rfNcA", "2a22f697-173f-40ca-8c02-debab4a06d78")
    bad_names = (
        "Hotmart",
        "Equipe Hubla",
        "ana@x.com",
        "https://x.com",
        "null",
        "",
        "A" * 200,
        *ids,
    )
    for bad in (*bad_names, None, 42):
        assert plausible_name(bad) is None, bad


def test_link_and_text_contacts_skip_chrome_forms_and_the_platform() -> None:
    from leadcrawler.domain.items import ContactKind
    from leadcrawler.extraction.labels import link_contacts, text_emails

    response = page(
        "<body><header><a href='mailto:topo@loja.com.br'>topo</a></header>"
        "<main><p>Dúvidas? <a href='mailto:ana@doces.com.br'>ana@doces.com.br</a></p>"
        "<p><a href='https://wa.me/5531990001234'>WhatsApp da Ana</a></p>"
        "<p><a href='https://wa.me/551130000000'>Suporte Hotmart</a></p>"
        "<p><a href='https://chat.whatsapp.com/AbCdEf123'>Grupo</a></p>"
        "<p><a href='mailto:ajuda@hotmart.com'>ajuda</a></p>"
        "<p>Suporte do curso: bia@doces.com.br</p><p>Ex.: joao@gmail.com</p>"
        "<form><p>Contato: form@doces.com.br</p></form></main>"
        "<footer><a href='mailto:rodape@loja.com.br'>rodapé</a></footer>"
        "<div role='dialog'>Contato: cookies@loja.com.br</div>"
        "<div class='Checkout-Footer'><a href='https://wa.me/5511988887777'>Ajuda</a></div></body>"
    )
    assert list(link_contacts(response)) == [
        (ContactKind.EMAIL, "mailto:ana@doces.com.br", "mailto"),
        (ContactKind.WHATSAPP, "https://wa.me/5531990001234", "whatsapp_link"),
    ]
    assert list(text_emails(response)) == ["ana@doces.com.br", "bia@doces.com.br"]
