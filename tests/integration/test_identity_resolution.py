"""One lead per real producer across sources, through the real pipeline chain."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from leadcrawler.domain.items import ContactKind, ContactPoint, Lead, Offer, Sighting
from leadcrawler.storage.models import ValueHistory
from leadcrawler.storage.store import open_store
from tests.support.chain import run_chain
from tests.support.factories import LEGAL_BASIS, T0


def sighting(
    name: str | None,
    source: str,
    url: str,
    *,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    whatsapp: tuple[str, ...] = (),
    socials: tuple[str, ...] = (),
    website: str | None = None,
    offer: tuple[str, str | None] | None = None,
    seen_at=T0,  # type: ignore[no-untyped-def]
) -> Lead:
    def point(kind: ContactKind, value: str, method: str) -> ContactPoint:
        return ContactPoint(kind=kind, value=value, source_url=url, found_at=seen_at, method=method)

    contacts = (
        [point(ContactKind.EMAIL, e, "mailto") for e in emails]
        + [point(ContactKind.PHONE, p, "tel") for p in phones]
        + [point(ContactKind.WHATSAPP, w, "wa.me") for w in whatsapp]
        + [point(ContactKind.SOCIAL, s, "link") for s in socials]
    )
    offers = []
    if offer:
        checkout, price = offer
        offers.append(
            Offer(
                platform=source,
                checkout_url=checkout,
                product_name="Curso",
                price_brl=Decimal(price) if price else None,
            )
        )
    return Lead(
        sighting=Sighting(source=source, url=url, spider=source, seen_at=seen_at),
        display_name=name,
        website=website,
        contacts=contacts,
        offers=offers,
        **LEGAL_BASIS,
    )


def stored(database_url: str) -> list[dict]:  # type: ignore[type-arg]
    store = open_store(database_url)
    rows = list(store.iter_leads())
    store.engine.dispose()
    return rows


def test_a_producer_on_three_sources_is_one_lead(database_url: str) -> None:
    kiwify = sighting(
        "Ana Souza",
        "kiwify",
        "https://pay.kiwify.com.br/AnA1234",
        emails=("Ana.Souza@AnaDoces.com.br",),
        offer=("https://pay.kiwify.com.br/AnA1234", "97.00"),
    )
    hotmart = sighting(
        "Ana Souza Doces",
        "hotmart",
        "https://pay.hotmart.com/A12345678B",
        phones=("(11) 98765-4321",),
        offer=("https://pay.hotmart.com/A12345678B", "497.00"),
    )
    site = sighting(
        "Ana Doces",
        "site",
        "https://www.anadoces.com.br/contato",
        emails=("ana.souza@anadoces.com.br",),
        whatsapp=("+55 11 98765-4321",),
        socials=("https://instagram.com/anadoces",),
        website="https://www.anadoces.com.br/",
    )
    stats = run_chain(database_url, [kiwify, hotmart, site])
    [lead] = stored(database_url)
    assert stats["leadcrawler/persist/merged"] == 1  # the site linked the two platform leads
    assert {o["platform"] for o in lead["offers"]} == {"kiwify", "hotmart"}
    values = {(c["kind"], c["value"]) for c in lead["contacts"]}
    assert [v for k, v in values if k == "email"] == ["ana.souza@anadoces.com.br"]
    assert ("phone", "+5511987654321") in values
    assert ("whatsapp", "+5511987654321") in values
    assert lead["domain"] == "anadoces.com.br"
    assert len(lead["source_urls"]) == 3
    assert lead["score_reasons"]["extra_platforms"] > 0
    # Every contact keeps where it came from.
    assert all(c["source_url"].startswith("https://") for c in lead["contacts"])


def test_same_email_in_other_letter_case_links(database_url: str) -> None:
    run_chain(
        database_url,
        [
            sighting(
                "Bia", "kiwify", "https://pay.kiwify.com.br/BiA1234", emails=("BIA@Lima.com.br",)
            ),
            sighting("Bia Lima", "hubla", "https://pay.hub.la/x", emails=("bia@lima.com.br",)),
        ],
    )
    assert len(stored(database_url)) == 1


def test_same_phone_in_three_formats_links(database_url: str) -> None:
    formats = ("(21) 99876-5432", "+55 21 9 9876-5432", "5521998765432")
    leads = [
        sighting(f"Caio {i}", "kiwify", f"https://pay.kiwify.com.br/Cai{i:04d}", phones=(p,))
        for i, p in enumerate(formats)
    ]
    run_chain(database_url, leads)
    [lead] = stored(database_url)
    assert {c["value"] for c in lead["contacts"]} == {"+5521998765432"}


def test_a_shared_agency_domain_does_not_merge_producers(database_url: str) -> None:
    run_chain(
        database_url,
        [
            sighting(
                "Ana Souza",
                "site",
                "https://agencia.com.br/ana",
                website="https://agencia.com.br/ana",
            ),
            sighting(
                "Bia Lima",
                "site",
                "https://agencia.com.br/bia",
                website="https://agencia.com.br/bia",
            ),
            # The same producer's own site seen again does link (names agree).
            sighting(
                "ANA SOUZA",
                "site",
                "https://agencia.com.br/ana/sobre",
                website="https://agencia.com.br/ana",
            ),
        ],
    )
    names = sorted(row["name"] for row in stored(database_url))
    assert names == ["Ana Souza", "Bia Lima"]


def test_free_mail_and_link_hub_domains_do_not_link(database_url: str) -> None:
    run_chain(
        database_url,
        [
            sighting(
                "Ana Souza",
                "site",
                "https://linktr.ee/ana",
                emails=("ana.souza@gmail.com",),
                website="https://linktr.ee/ana",
            ),
            sighting(
                "Bia Lima",
                "site",
                "https://linktr.ee/bia",
                emails=("bia.lima@gmail.com",),
                website="https://linktr.ee/bia",
            ),
        ],
    )
    assert len(stored(database_url)) == 2


def test_keys_link_transitively(database_url: str) -> None:
    run_chain(
        database_url,
        [
            sighting(
                "Dani",
                "kiwify",
                "https://pay.kiwify.com.br/DaN1234",
                emails=("dani@cursos.com.br",),
            ),
            sighting(
                "Dani R.",
                "hotmart",
                "https://pay.hotmart.com/B12345678C",
                phones=("+55 31 99999-1111",),
            ),
            sighting(
                "Dani Rocha",
                "hubla",
                "https://pay.hub.la/y",
                socials=("https://instagram.com/danirocha",),
                phones=("31999991111",),
            ),
            sighting(
                "Daniela Rocha",
                "site",
                "https://danirocha.com.br",
                emails=("dani@cursos.com.br",),
                socials=("https://www.instagram.com/DaniRocha/",),
            ),
        ],
    )
    [lead] = stored(database_url)
    assert lead["name"] == "Dani"  # the first stored name is kept; the others are in history


def test_a_changed_price_keeps_the_old_one_with_its_dates(database_url: str) -> None:
    url = "https://pay.kiwify.com.br/PrC1234"
    first = sighting("Eva", "kiwify", url, offer=(url, "97.00"), seen_at=T0)
    later = sighting("Eva", "kiwify", url, offer=(url, "127.00"), seen_at=T0 + timedelta(days=7))
    run_chain(database_url, [first])
    run_chain(database_url, [later])
    [lead] = stored(database_url)
    [offer] = lead["offers"]
    assert offer["price_brl"] == Decimal("127.00")
    store = open_store(database_url)
    with store.sessions() as session:
        prices = {
            h.value: (h.first_seen.date(), h.last_seen.date())
            for h in session.scalars(select(ValueHistory).where(ValueHistory.field == "price_brl"))
        }
    store.engine.dispose()
    assert prices == {
        "97.00": (T0.date(), T0.date()),
        "127.00": ((T0 + timedelta(days=7)).date(), (T0 + timedelta(days=7)).date()),
    }


def site_with_recommendations(seen_at=T0) -> Lead:  # type: ignore[no-untyped-def]
    """Júlia's own site: her checkout, and a "cursos que eu recomendo" of two others."""
    site = sighting(
        "Júlia Campos Doces",
        "site",
        "https://www.juliacamposdoces.com.br/",
        emails=("contato@juliacamposdoces.com.br",),
        website="https://www.juliacamposdoces.com.br/",
        seen_at=seen_at,
    )
    site.offers = [
        Offer(platform="kiwify", checkout_url=f"https://pay.kiwify.com.br/{c}", linked=True)
        for c in ("JuL0001", "BrU0001", "CaR0001")
    ]
    return site


def platform_pages(seen_at=T0) -> list[Lead]:  # type: ignore[no-untyped-def]
    return [
        sighting(
            name,
            "kiwify",
            f"https://pay.kiwify.com.br/{code}",
            offer=(f"https://pay.kiwify.com.br/{code}", "97.00"),
            seen_at=seen_at,
        )
        for name, code in (
            ("Júlia Campos", "JuL0001"),
            ("Bruno Teixeira", "BrU0001"),
            ("Carla Menezes", "CaR0001"),
        )
    ]


@pytest.mark.parametrize("site_first", [True, False], ids=["site-first", "site-last"])
def test_checkouts_a_site_recommends_do_not_merge_their_producers_into_its_owner(
    database_url: str, site_first: bool
) -> None:
    later = T0 + timedelta(days=1)
    if site_first:
        run_chain(database_url, [site_with_recommendations()])
        run_chain(database_url, platform_pages(later))
        run_chain(database_url, [site_with_recommendations(later + timedelta(days=1))])
    else:
        run_chain(database_url, platform_pages())
        run_chain(database_url, [site_with_recommendations(later)])
    rows = {row["name"]: row for row in stored(database_url)}
    # Her own checkout joins her site (the names agree); the two she recommends stay
    # their producers' leads, each with its own offer (a recommendation claims nothing).
    assert len(rows) == 3
    assert {"Bruno Teixeira", "Carla Menezes"} < set(rows)
    [julia] = [row for name, row in rows.items() if name.startswith("Júlia")]
    assert "contato@juliacamposdoces.com.br" in {c["value"] for c in julia["contacts"]}
    assert {o["checkout_url"] for o in julia["offers"]} == {"https://pay.kiwify.com.br/JuL0001"}
    for name, code in (("Bruno Teixeira", "BrU0001"), ("Carla Menezes", "CaR0001")):
        assert {o["checkout_url"] for o in rows[name]["offers"]} == {
            f"https://pay.kiwify.com.br/{code}"
        }
        assert rows[name]["contacts"] == []
