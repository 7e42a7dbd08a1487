"""`leadcrawler dedupe --rebuild`: re-links the base under the current rules, idempotently."""

from __future__ import annotations

from datetime import timedelta

from leadcrawler.cli import main
from leadcrawler.domain.items import ContactKind
from leadcrawler.domain.scoring import Rules
from leadcrawler.storage.store import open_store
from settings.base import QUALIFY_RULES_FILE
from tests.integration.test_identity_resolution import (
    platform_pages,
    site_with_recommendations,
    stored,
)
from tests.support.chain import run_chain
from tests.support.factories import T0, contact, lead


def test_rebuild_merges_what_old_rules_kept_apart_and_is_idempotent(
    database_url: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    store = open_store(database_url)
    rules = Rules.from_file(QUALIFY_RULES_FILE)
    # Stored under older rules that knew only checkout keys: the shared e-mail never linked them.
    first = lead(
        "Fábio",
        checkout="https://pay.kiwify.com.br/FaB0001",
        contacts=[contact(ContactKind.EMAIL, "fabio@cursos.com.br")],
    )
    second = lead(
        "Fábio Melo",
        checkout="https://pay.hotmart.com/F12345678G",
        platform="hotmart",
        contacts=[contact(ContactKind.EMAIL, "fabio@cursos.com.br")],
    )
    other = lead(
        "Gil",
        checkout="https://pay.kiwify.com.br/GiL0001",
        contacts=[contact(ContactKind.EMAIL, "gil@gil.com.br")],
    )
    first.identity_keys = [f"checkout:{first.offers[0].checkout_url}"]
    second.identity_keys = [f"checkout:{second.offers[0].checkout_url}"]
    other.identity_keys = [f"checkout:{other.offers[0].checkout_url}"]
    store.save([first, second, other], None, rules)
    assert store.count_leads() == 3

    assert main(["dedupe", "--rebuild", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert "3 lead(s) before, 2 after (1 merged)" in out
    rows = {row["name"]: row for row in store.iter_leads()}
    assert set(rows) == {"Fábio", "Gil"}
    assert {o["platform"] for o in rows["Fábio"]["offers"]} == {"kiwify", "hotmart"}
    assert rows["Fábio"]["score_reasons"].get("extra_platforms") == 8  # re-scored after the merge
    before = [
        (r["lead_id"], r["score"], len(r["contacts"]), len(r["offers"])) for r in store.iter_leads()
    ]

    assert main(["dedupe", "--rebuild", "--database-url", database_url]) == 0
    assert "2 lead(s) before, 2 after (0 merged)" in capsys.readouterr().out
    after = [
        (r["lead_id"], r["score"], len(r["contacts"]), len(r["offers"])) for r in store.iter_leads()
    ]
    assert after == before
    store.engine.dispose()


def test_dedupe_without_an_action_is_a_usage_error(sqlite_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["dedupe", "--database-url", sqlite_url]) == 2
    assert "--rebuild" in capsys.readouterr().err


def test_rebuild_keeps_a_sites_checkout_links_weak(database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    # The site is stored alone: the checkouts it links are its offers for now.
    run_chain(database_url, [site_with_recommendations()])
    assert main(["dedupe", "--rebuild", "--database-url", database_url]) == 0
    assert "1 lead(s) before, 1 after (0 merged)" in capsys.readouterr().out
    # After the rebuild the producers' own pages still only join the site whose name agrees.
    run_chain(database_url, platform_pages(T0 + timedelta(days=1)))
    names = sorted(row["name"] for row in stored(database_url))
    assert names == ["Bruno Teixeira", "Carla Menezes", "Júlia Campos Doces"]
    assert main(["dedupe", "--rebuild", "--database-url", database_url]) == 0
    assert "3 lead(s) before, 3 after (0 merged)" in capsys.readouterr().out
