"""A site that carries many identities is a directory, not one producer (issue 14, item 2).

The blog is written at test time (a contact page of 10,000 ``mailto:`` links is 0.5 MB).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.store import open_store
from tests.e2e.test_e2e_kiwify import leads
from tests.integration.test_identity_resolution import platform_pages
from tests.support.chain import run_chain

CHECKOUTS = [f"https://pay.kiwify.com.br/Bl{n:05d}" for n in range(60)]


def write_producer_site(root: Path) -> None:
    """Júlia's own site: her checkout, and two other producers' in "cursos que eu recomendo"."""
    site = root / "www.juliacamposdoces.com.br"
    site.mkdir(parents=True)
    (site / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">\n'
        "<title>Júlia Campos Doces</title>"
        '<meta property="og:site_name" content="Júlia Campos Doces">\n'
        "</head><body>\n<h1>Júlia Campos Doces</h1>\n"
        '<p>Meu curso: <a href="https://pay.kiwify.com.br/JuL0001">Bolos de pote</a></p>\n'
        '<p>Fale comigo: <a href="mailto:contato@juliacamposdoces.com.br">'
        "contato@juliacamposdoces.com.br</a></p>\n"
        "<h2>Cursos que eu recomendo</h2>\n<ul>\n"
        '  <li><a href="https://pay.kiwify.com.br/BrU0001?afid=julia">Marcenaria</a></li>\n'
        '  <li><a href="https://pay.kiwify.com.br/CaR0001?afid=julia">Finanças</a></li>\n'
        "</ul>\n</body></html>\n",
        "utf-8",
    )


def write_blog(root: Path) -> None:
    site = root / "www.blogdoscursos.com.br"
    site.mkdir(parents=True)
    links = "\n".join(
        f'  <li><a href="{url}?afid=blog14">Curso {n + 1}</a></li>'
        for n, url in enumerate(CHECKOUTS)
    )
    (site / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">\n'
        '<title>Blog dos Cursos</title><meta property="og:site_name" content="Blog dos Cursos">\n'
        "</head><body>\n<h1>Blog dos Cursos</h1>\n"
        '<p>Fale com a gente: <a href="mailto:editor@blogdoscursos.com.br">'
        "editor@blogdoscursos.com.br</a></p>\n"
        '<p><a href="/contato">Contato</a></p>\n'
        f"<h2>Cursos que eu recomendo</h2>\n<ul>\n{links}\n</ul>\n</body></html>\n",
        "utf-8",
    )
    mails = "\n".join(
        f'<a href="mailto:leitor{n}@lista{n % 97}.com.br">leitor{n}</a>' for n in range(10_000)
    )
    (site / "contato.html").write_text(
        '<!DOCTYPE html>\n<html lang="pt-BR"><head><meta charset="utf-8">'
        "<title>Contato - Blog dos Cursos</title></head>\n"
        f"<body><h1>Contato</h1><p>Nossos leitores:</p>\n{mails}\n</body></html>\n",
        "utf-8",
    )


@pytest.fixture(scope="module")
def fixture_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FixtureWeb]:
    root = tmp_path_factory.mktemp("directory-web")
    write_blog(root)
    write_producer_site(root)
    with FixtureWeb(root) as web:
        yield web


def test_a_blog_linking_60_checkouts_and_10000_mailtos_is_a_directory(
    run_crawl, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("site", sqlite_url, "urls=https://www.blogdoscursos.com.br/")
    assert result.returncode == 0, result.log[-3000:]
    [blog] = leads(sqlite_url)
    # The checkouts it recommends are not the blog owner's: none is an offer (or a key).
    assert blog["offers"] == []
    # Its own address is kept; the 10,000 readers on the contact page are not.
    emails = {c["value"] for c in blog["contacts"] if c["kind"] == "email"}
    assert emails == {"editor@blogdoscursos.com.br"}
    assert "'leadcrawler/enrich/site/directory_page/checkouts': 1" in result.log
    assert "'leadcrawler/enrich/site/directory_page/contacts': 1" in result.log
    # Each checkout is queued for its own page to say whose it is.
    store = open_store(sqlite_url)
    assert FrontierStore(store.engine).counts("kiwify") == {"pending": 60}
    store.engine.dispose()


def test_a_producers_site_recommending_two_others_joins_only_her_own_checkout(
    run_crawl, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    # The three producers' own Kiwify pages are already in the base.
    run_chain(sqlite_url, platform_pages())
    result = run_crawl("site", sqlite_url, "urls=https://www.juliacamposdoces.com.br/")
    assert result.returncode == 0, result.log[-3000:]
    rows = {row["name"]: row for row in leads(sqlite_url)}
    # Her site joins her own checkout (the names agree); the two she recommends do not.
    assert sorted(rows) == ["Bruno Teixeira", "Carla Menezes", "Júlia Campos"]
    julia = rows["Júlia Campos"]
    assert "contato@juliacamposdoces.com.br" in {c["value"] for c in julia["contacts"]}
    assert {o["checkout_url"] for o in julia["offers"]} == {"https://pay.kiwify.com.br/JuL0001"}
    for name, code in (("Bruno Teixeira", "BrU0001"), ("Carla Menezes", "CaR0001")):
        assert rows[name]["contacts"] == []
        assert [o["checkout_url"] for o in rows[name]["offers"]] == [
            f"https://pay.kiwify.com.br/{code}"
        ]
    # Every checkout it links is still queued, for its own page to say whose it is.
    store = open_store(sqlite_url)
    assert FrontierStore(store.engine).counts("kiwify") == {"pending": 3}
    store.engine.dispose()
