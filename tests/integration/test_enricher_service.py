"""The enricher without a crawl: raw leads through the whole chain into a base."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from leadcrawler.domain.items import ContactKind
from leadcrawler.enricher import enrich_leads
from leadcrawler.storage.store import open_store
from tests.support.chain import run_chain
from tests.support.factories import contact, lead

ROOT = Path(__file__).resolve().parents[2]


def test_example_script_stores_raw_leads_without_scrapy(database_url: str) -> None:
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['enrich_leads.py', {database_url!r}]\n"
        "try:\n"
        "    runpy.run_path('examples/enrich_leads.py', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "print('scrapy imported:', 'scrapy' in sys.modules, 'twisted' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 lead(s) kept, 2 new in" in done.stdout  # Ana's two sightings are one producer
    assert "rejected: 1 (only_invalid_contacts)" in done.stdout
    assert "scrapy imported: False False" in done.stdout
    store = open_store(database_url)
    try:
        stored = list(store.iter_leads())
    finally:
        store.engine.dispose()
    names = sorted(row["name"] for row in stored)
    assert names == ["Ana Doces", "Studio Yoga"]
    ana = next(row for row in stored if row["name"] == "Ana Doces")
    assert {o["platform"] for o in ana["offers"]} == {"kiwify", "hotmart"}
    phones = [c for c in ana["contacts"] if c["kind"] == "phone"]
    assert [c["value"] for c in phones] == ["+5511987654321"]


def sample() -> list:  # type: ignore[type-arg]
    return [
        lead("Ana Souza", contacts=[contact(ContactKind.EMAIL, "ana@anasouza.com.br")]),
        lead(
            "Ana Souza",
            checkout="https://pay.hotmart.com/A12345678B",
            platform="hotmart",
            contacts=[contact(ContactKind.EMAIL, "ana@anasouza.com.br")],
        ),
        lead("Bruno Lima", checkout="https://pay.kiwify.com.br/Zz9Yy8X", price="497.00"),
        lead(None, checkout=None),
    ]


def test_the_service_and_a_crawls_pipelines_store_the_same_base(tmp_path: Path) -> None:
    service_url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    crawl_url = f"sqlite:///{tmp_path / 'crawl.sqlite3'}"
    report = enrich_leads(sample(), service_url, ENRICH_DNS_ENABLED=False)
    stats = run_chain(crawl_url, sample())
    assert report.rejected == {"no_identity": 1}
    assert stats["leadcrawler/validate/dropped/no_identity"] == 1

    def snapshot(url: str) -> list[tuple[object, ...]]:
        store = open_store(url)
        try:
            return sorted(
                (row["name"], row["score"], row["tier"], len(row["offers"]), len(row["contacts"]))
                for row in store.iter_leads()
            )
        finally:
            store.engine.dispose()

    assert snapshot(service_url) == snapshot(crawl_url)
    assert len(snapshot(service_url)) == 2
