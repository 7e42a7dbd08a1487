"""`leadcrawler dedupe --rebuild` splits what an old rule merged (SQLite and PostgreSQL).

The writer records which sighting brought which identity key (``sighting_keys``); the
rebuild groups the sightings again under today's rules, so a lead an old rule glued
together comes apart, each part with its own contacts, offers, history and sightings.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import func, insert, select

from leadcrawler.cli import main
from leadcrawler.domain.identity import keys_for_lead
from leadcrawler.domain.items import ContactKind, Lead, Offer, Sighting
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.db import alembic_config, make_engine
from leadcrawler.storage.models import LeadKey, LeadRow, SightingKey, SightingRow
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.integration.test_identity_resolution import (
    platform_pages,
    sighting,
    site_with_recommendations,
)
from tests.support.chain import run_chain
from tests.support.factories import LEGAL_BASIS, T0, contact, lead

BRUNO = "https://pay.kiwify.com.br/BrU0001"
CARLA = "https://pay.kiwify.com.br/CaR0001"
BLOG = "https://www.blogdecursos.com.br/"


def producers(seen_at=T0) -> list[Lead]:  # type: ignore[no-untyped-def]
    """Bruno's and Carla's own checkout pages."""
    return [
        sighting(
            name,
            "kiwify",
            url,
            emails=(email,),
            offer=(url, "97.00"),
            seen_at=seen_at,
        )
        for name, url, email in (
            ("Bruno Teixeira", BRUNO, "bruno@brunoteixeira.com.br"),
            ("Carla Menezes", CARLA, "carla@carlamenezes.com.br"),
        )
    ]


def old_blog(seen_at=T0) -> Lead:  # type: ignore[no-untyped-def]
    """A blog of recommendations as the site spider read it before issue 14: the checkouts
    it links taken as the blog owner's own offers (strong ``checkout:`` keys)."""
    blog = sighting(
        "Cursos Que Eu Recomendo",
        "site",
        BLOG,
        emails=("contato@blogdecursos.com.br",),
        website=BLOG,
        seen_at=seen_at,
    )
    blog.offers = [Offer(platform="kiwify", checkout_url=url) for url in (BRUNO, CARLA)]
    return blog


def belonging_together(seen_at=T0) -> list[Lead]:  # type: ignore[no-untyped-def]
    """Ana on two platforms with one e-mail; Júlia's site and her own checkout."""
    ana = [
        sighting(
            "Ana Doces",
            platform,
            url,
            emails=("ana@anadoces.com.br",),
            offer=(url, "47.00"),
            seen_at=seen_at,
        )
        for platform, url in (
            ("kiwify", "https://pay.kiwify.com.br/AnA0001"),
            ("hotmart", "https://pay.hotmart.com/A12345678B"),
        )
    ]
    julia_site = site_with_recommendations(seen_at)
    julia_site.offers = julia_site.offers[:1]  # her own checkout only
    julia_page = platform_pages(seen_at + timedelta(hours=1))[0]
    return [*ana, julia_site, julia_page]


def snapshot(database_url: str) -> dict[str, dict[str, Any]]:
    """What a user sees per lead: uid, contacts, offers, sightings and history."""
    store = open_store(database_url)
    found = {}
    for row in store.iter_leads():
        detail = store.lead_detail(row["lead_id"])
        assert detail is not None
        found[row["name"]] = {
            "uid": row["lead_id"],
            "score": row["score"],
            "website": row["website"],
            "domain": row["domain"],
            "contacts": sorted(c["value"] for c in row["contacts"]),
            "offers": sorted(o["checkout_url"] for o in row["offers"]),
            "sightings": sorted(s["url"] for s in detail["sightings"]),
            "times_seen": row["times_seen"],
            "history": sorted((h["field"], h["ref"], h["value"]) for h in detail["history"]),
        }
    store.engine.dispose()
    return found


def rebuild(database_url: str, capsys, *extra: str) -> str:  # type: ignore[no-untyped-def]
    assert main(["dedupe", "--rebuild", "--database-url", database_url, *extra]) == 0
    return str(capsys.readouterr().out)


def test_rebuild_splits_what_an_old_rule_merged_and_keeps_what_belongs_together(
    database_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    run_chain(database_url, producers())
    run_chain(database_url, belonging_together(T0 + timedelta(hours=2)))
    run_chain(database_url, [old_blog(T0 + timedelta(days=1))])
    before = snapshot(database_url)
    # The old rule: the blog's links glued Bruno, Carla and the blog into one lead.
    assert set(before) == {"Bruno Teixeira", "Ana Doces", "Júlia Campos Doces"}
    assert before["Bruno Teixeira"]["offers"] == [BRUNO, CARLA]

    out = rebuild(database_url, capsys, "--dry-run")
    assert "Would re-link" in out
    assert "3 lead(s) before, 5 after (0 merged), 2 part(s) split off" in out
    assert snapshot(database_url) == before  # a dry run changes nothing

    out = rebuild(database_url, capsys)
    assert "Re-linked the base: 3 lead(s) before, 5 after (0 merged), 2 part(s) split off" in out
    after = snapshot(database_url)
    assert set(after) == {
        "Bruno Teixeira",
        "Carla Menezes",
        "Cursos Que Eu Recomendo",
        "Ana Doces",
        "Júlia Campos Doces",
    }
    bruno, carla, blog = (
        after["Bruno Teixeira"],
        after["Carla Menezes"],
        after["Cursos Que Eu Recomendo"],
    )
    # Bruno's sighting is the oldest: his part keeps the lead (and its uid).
    assert bruno["uid"] == before["Bruno Teixeira"]["uid"]
    assert (bruno["contacts"], bruno["offers"], bruno["sightings"]) == (
        ["bruno@brunoteixeira.com.br"],
        [BRUNO],
        [BRUNO],
    )
    assert bruno["website"] is None and bruno["times_seen"] == 1
    # Carla and the blog are their own leads again, with what their own sightings brought.
    assert (carla["contacts"], carla["offers"], carla["sightings"]) == (
        ["carla@carlamenezes.com.br"],
        [CARLA],
        [CARLA],
    )
    assert ("product_name", CARLA, "Curso") in carla["history"]
    assert ("display_name", "", "Carla Menezes") in carla["history"]
    assert carla["uid"] != bruno["uid"] and carla["score"] is not None
    assert (blog["contacts"], blog["offers"], blog["sightings"]) == (
        ["contato@blogdecursos.com.br"],
        [],  # the checkouts it links are their producers'
        [BLOG],
    )
    assert (blog["website"], blog["domain"]) == (BLOG, "blogdecursos.com.br")
    assert ("display_name", "", "Carla Menezes") not in bruno["history"]
    # What belongs together stays together.
    assert after["Ana Doces"] == before["Ana Doces"]
    assert len(after["Ana Doces"]["offers"]) == 2
    assert after["Júlia Campos Doces"]["uid"] == before["Júlia Campos Doces"]["uid"]
    assert after["Júlia Campos Doces"]["offers"] == ["https://pay.kiwify.com.br/JuL0001"]

    # Twice changes nothing.
    out = rebuild(database_url, capsys)
    assert "5 lead(s) before, 5 after (0 merged), 0 part(s) split off" in out
    assert snapshot(database_url) == after

    # The keys it wrote are the ones the writer now finds: Carla seen again is Carla's lead.
    run_chain(database_url, producers(T0 + timedelta(days=2))[1:])
    again = snapshot(database_url)
    assert len(again) == 5
    assert again["Carla Menezes"]["uid"] == carla["uid"]
    assert again["Carla Menezes"]["times_seen"] == 2


def test_a_split_off_part_joins_the_lead_it_belongs_with(database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    # Written under older rules that knew only checkout keys and took a blog's links as
    # its own checkouts: Bruno's Kiwify page went to Carla's lead through the blog, not to
    # his Hotmart lead with the same e-mail.
    store = open_store(database_url)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    email = [contact(ContactKind.EMAIL, "bruno@brunoteixeira.com.br")]
    hotmart = "https://pay.hotmart.com/B12345678C"
    bruno_hotmart = lead("Bruno Teixeira", checkout=hotmart, platform="hotmart", contacts=email)
    carla = lead("Carla Menezes", checkout=CARLA, seen_at=T0 + timedelta(hours=1))
    blog = lead("Cursos Que Eu Recomendo", checkout=CARLA, seen_at=T0 + timedelta(hours=2))
    blog.offers.append(Offer(platform="kiwify", checkout_url=BRUNO))
    blog.sighting = Sighting(source="site", url=BLOG, spider="site", seen_at=blog.sighting.seen_at)
    bruno_kiwify = lead(
        "Bruno Teixeira", checkout=BRUNO, contacts=email, seen_at=T0 + timedelta(hours=3)
    )
    for item in (bruno_hotmart, carla, blog, bruno_kiwify):
        item.identity_keys = [f"checkout:{o.checkout_url}" for o in item.offers]
        store.save([item], None, rules)
    store.engine.dispose()
    before = snapshot(database_url)
    assert before["Carla Menezes"]["offers"] == [BRUNO, CARLA]

    out = rebuild(database_url, capsys)
    assert "2 lead(s) before, 3 after (0 merged), 2 part(s) split off" in out
    after = snapshot(database_url)
    assert set(after) == {"Bruno Teixeira", "Carla Menezes", "Cursos Que Eu Recomendo"}
    assert after["Bruno Teixeira"]["uid"] == before["Bruno Teixeira"]["uid"]
    assert after["Bruno Teixeira"]["offers"] == sorted([BRUNO, hotmart])
    assert after["Bruno Teixeira"]["sightings"] == sorted([BRUNO, hotmart])
    assert after["Bruno Teixeira"]["times_seen"] == 2
    assert after["Carla Menezes"]["uid"] == before["Carla Menezes"]["uid"]
    assert (after["Carla Menezes"]["offers"], after["Carla Menezes"]["sightings"]) == (
        [CARLA],
        [CARLA],
    )
    assert after["Cursos Que Eu Recomendo"]["offers"] == []
    assert "3 lead(s) before, 3 after (0 merged), 0 part(s) split off" in rebuild(
        database_url, capsys
    )
    assert snapshot(database_url) == after


def test_the_writer_records_each_sightings_keys(database_url: str) -> None:
    run_chain(database_url, producers())
    store = open_store(database_url)
    with store.sessions() as session:
        rows = session.execute(
            select(SightingRow.url, SightingKey.key, SightingKey.display_name).join(
                SightingKey, SightingKey.sighting_id == SightingRow.id
            )
        ).all()
    store.engine.dispose()
    carla = {key for url, key, _name in rows if url == CARLA}
    assert {f"checkout:{CARLA}", "email:carla@carlamenezes.com.br"} < carla
    assert any(key.startswith("uid:") for key in carla)
    assert {name for url, _key, name in rows if url == CARLA} == {"Carla Menezes"}


def test_migration_backfills_leads_seen_once_and_old_merges_cannot_be_split(
    database_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    # A base written before 0008: Gil seen once; "Blog" seen three times, merged by the
    # old rule (its sightings cannot be told apart: contacts and offers are per lead).
    command.upgrade(alembic_config(database_url), "0007_ops")
    engine = make_engine(database_url)
    lead = {
        "first_seen": T0, "last_seen": T0, "updated_at": T0, "times_seen": 1,
        "score_reasons": {}, "enrichment": {}, **LEGAL_BASIS,
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            insert(LeadRow),
            [
                {**lead, "id": 1, "uid": "u-gil", "display_name": "Gil"},
                {**lead, "id": 2, "uid": "u-blog", "display_name": "Blog", "times_seen": 3},
            ],
        )
        conn.execute(
            insert(LeadKey),
            [
                {"lead_id": 1, "key": "checkout:https://pay.kiwify.com.br/GiL0001"},
                {"lead_id": 2, "key": f"checkout:{BRUNO}"},
                {"lead_id": 2, "key": f"checkout:{CARLA}"},
            ],
        )
        sight = {"run_id": None, "spider": "x", "seen_at": T0}
        conn.execute(
            insert(SightingRow),
            [
                {**sight, "id": 1, "lead_id": 1, "source": "kiwify", "url": "https://pay.kiwify.com.br/GiL0001"},
                {**sight, "id": 2, "lead_id": 2, "source": "kiwify", "url": BRUNO},
                {**sight, "id": 3, "lead_id": 2, "source": "kiwify", "url": CARLA},
                {**sight, "id": 4, "lead_id": 2, "source": "site", "url": BLOG},
            ],
        )  # fmt: skip
    engine.dispose()

    store = open_store(database_url)  # migrates to the newest revision
    with store.sessions() as session:
        backfilled = session.execute(
            select(SightingKey.sighting_id, SightingKey.key, SightingKey.display_name)
        ).all()
        assert session.scalar(select(func.count()).select_from(SightingRow)) == 4
    store.engine.dispose()
    assert sorted(backfilled) == [
        (1, "checkout:https://pay.kiwify.com.br/GiL0001", "Gil"),
        (1, "uid:u-gil", "Gil"),
    ]
    out = rebuild(database_url, capsys)
    assert "2 lead(s) before, 2 after (0 merged), 0 part(s) split off" in out


def test_forget_deletes_the_keys_a_persons_sightings_brought(database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    run_chain(database_url, producers())
    assert main(["forget", "carla@carlamenezes.com.br", "--database-url", database_url]) == 0
    assert "sighting_keys" in capsys.readouterr().out
    store = open_store(database_url)
    with store.sessions() as session:
        left = list(session.execute(select(SightingKey.key, SightingKey.display_name)))
    store.engine.dispose()
    assert left and not [row for row in left if "carla" in str(row).lower()]


def test_a_sighting_without_a_name_stays_with_the_lead_it_was_written_to(
    database_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    # A website visit retried by uid: the page gave no name, only an e-mail of its own and
    # the site's domain (a weak key, which needs a name to link).
    store = open_store(database_url)
    ana = lead("Ana Doces", contacts=[contact(ContactKind.EMAIL, "ana@anadoces.com.br")])
    ana.website, ana.domain = "https://anadoces.com.br/", "anadoces.com.br"
    ana.identity_keys = keys_for_lead(ana)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    store.save([ana], None, rules)
    [row] = store.iter_leads()
    retry = lead(
        None,
        checkout=None,
        contacts=[contact(ContactKind.EMAIL, "vendas@anadoces.com.br")],
        seen_at=T0 + timedelta(days=1),
    )
    retry.sighting = Sighting(
        source="site", url="https://anadoces.com.br/", spider="site", seen_at=retry.sighting.seen_at
    )
    retry.website, retry.domain = "https://anadoces.com.br/", "anadoces.com.br"
    retry.identity_keys = keys_for_lead(retry)
    retry.lead_uid = row["lead_id"]
    store.save([retry], None, rules)
    store.engine.dispose()
    before = snapshot(database_url)
    assert before["Ana Doces"]["contacts"] == ["ana@anadoces.com.br", "vendas@anadoces.com.br"]
    out = rebuild(database_url, capsys)
    assert "1 lead(s) before, 1 after (0 merged), 0 part(s) split off" in out
    assert snapshot(database_url) == before


def test_a_crawl_writing_during_a_rebuild_waits_and_ends_consistent(pg_url: str) -> None:
    # PostgreSQL: a crawl writes batches while rebuilds run; neither fails or deadlocks,
    # and every producer ends as one lead holding its own keys.
    store = open_store(pg_url)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    errors: list[BaseException] = []

    def crawl() -> None:
        try:
            for round_ in range(8):
                batch = []
                for n in range(10):
                    item = lead(
                        f"Produtor Numero {n}",
                        checkout=f"https://pay.kiwify.com.br/PrD{n:04d}",
                        contacts=[contact(ContactKind.EMAIL, f"p{n}@produtor{n}.com.br")],
                        seen_at=T0 + timedelta(hours=round_),
                    )
                    item.identity_keys = keys_for_lead(item)
                    batch.append(item)
                store.save(batch, None, rules)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=crawl)
    writer.start()
    results = []
    while writer.is_alive():
        results.append(store.rebuild_links(rules))
    writer.join()
    results.append(store.rebuild_links(rules))
    assert errors == []
    assert len(results) >= 2
    assert (results[-1].merged, results[-1].split) == (0, 0)
    assert store.count_leads() == 10
    with store.sessions() as session:
        owners = dict(session.execute(select(LeadKey.key, LeadKey.lead_id)).all())
        times = dict(session.execute(select(LeadRow.display_name, LeadRow.times_seen)).all())
    assert len(owners) == 20 and len(set(owners.values())) == 10
    assert set(times.values()) == {8}
    store.engine.dispose()


def test_a_directory_page_an_old_rule_merged_links_nobody_after_a_rebuild(
    database_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    # Six producers' own pages, then a page linking all six (more than
    # ENRICH_SITE_MAX_CHECKOUT_LINKS = 5) whose name even agrees with the first producer's:
    # the old rule merged all seven; today it is a directory and joins nobody.
    names = ["Bruno Teixeira", "Carla Menezes", "Davi Rocha", "Elis Prado", "Fabio Lima", "Gil Sa"]
    urls = [f"https://pay.kiwify.com.br/DiR{n:04d}" for n in range(len(names))]
    run_chain(
        database_url,
        [
            sighting(name, "kiwify", url, offer=(url, "97.00"))
            for name, url in zip(names, urls, strict=True)
        ],
    )
    directory = sighting("Bruno Teixeira Indica", "site", BLOG, seen_at=T0 + timedelta(days=1))
    directory.offers = [Offer(platform="kiwify", checkout_url=url) for url in urls]
    run_chain(database_url, [directory])
    assert len(snapshot(database_url)) == 1
    out = rebuild(database_url, capsys)
    assert "1 lead(s) before, 7 after (0 merged), 6 part(s) split off" in out
    after = snapshot(database_url)
    assert set(after) == {*names, "Bruno Teixeira Indica"}
    assert after["Bruno Teixeira Indica"]["offers"] == []
    assert [after[name]["offers"] for name in names] == [[url] for url in urls]
