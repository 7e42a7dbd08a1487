"""End to end: `scrapy crawl kiwify` through the fixture web into the base, as cron runs it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from leadcrawler.storage.models import ContactRow, LeadRow, OfferRow, Run, SightingRow
from leadcrawler.storage.store import open_store
from tests.conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "kiwify_expected.json").read_text("utf-8"))
ALL_URLS = [c["url"] for c in EXPECTED["checkouts"]] + [s["url"] for s in EXPECTED["short_links"]]


def counts(database_url: str) -> dict[str, int]:
    store = open_store(database_url)
    with store.sessions() as session:
        result = {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (LeadRow, OfferRow, ContactRow, SightingRow, Run)
        }
    store.engine.dispose()
    return result


def leads(database_url: str) -> list[dict[str, Any]]:
    store = open_store(database_url)
    rows = list(store.iter_leads())
    store.engine.dispose()
    return rows


def test_crawl_stores_one_lead_per_producer_and_nothing_twice(run_crawl, database_url: str) -> None:  # type: ignore[no-untyped-def]
    first = run_crawl("kiwify", database_url, "urls=" + ",".join(ALL_URLS))
    assert first.returncode == 0, first.log[-3000:]
    assert "Traceback" not in first.log, first.log[-3000:]

    stored = leads(database_url)
    producers = {c["producer"] for c in EXPECTED["checkouts"] if c.get("producer")}
    by_name = {row["name"]: row for row in stored}
    # One lead per producer seen on a checkout (same store id = same producer). The
    # producer site a kiwify.app sales link redirected to joins its store's lead: the
    # short link and the checkout share their id.
    assert producers <= set(by_name)
    assert len(stored) == len(producers)
    ana = by_name["Ana D'Ávila"]
    assert ana["website"] == "https://www.anadavilaconfeitaria.com.br/"
    assert ana["domain"] == "anadavilaconfeitaria.com.br"
    # Her site (reached through the kiwify.app sales link) gave the contacts Kiwify hides.
    site = EXPECTED["producer_sites"][0]
    values = {(c["kind"], c["value"]) for c in ana["contacts"] if c["status"] == "valid"}
    assert {("email", e) for e in site["emails"]} <= values
    assert {("whatsapp", w) for w in site["whatsapp"]} <= values
    assert {("social", s) for s in site["social"]} <= values
    assert all("chat.whatsapp.com" not in v for _k, v in values)
    contact_page = [c for c in ana["contacts"] if c["source_url"].endswith("/contato")]
    assert contact_page  # the contact page was read, each value keeps its own page
    assert {o["checkout_url"] for o in ana["offers"]} >= set(site["checkout_links"])
    assert ana["score_reasons"].get("business_email") == 25
    for group in EXPECTED["same_producer"]:
        offers = {o["checkout_url"] for o in by_name[group["producer"]]["offers"]}
        assert set(group["urls"]) <= offers
        assert {o["seller_id"] for o in by_name[group["producer"]]["offers"]} == {group["store_id"]}
    prices = {o["checkout_url"]: o["price_brl"] for row in stored for o in row["offers"]}
    for case in EXPECTED["checkouts"]:
        if case.get("price_brl"):
            assert str(prices[case["url"]]) == case["price_brl"], case["url"]
    for row in stored:
        assert row["tier"] in {"A", "B", "C"}
        assert row["score_reasons"]  # every score is explained

    after_first = counts(database_url)
    second = run_crawl("kiwify", database_url, "urls=" + ",".join(ALL_URLS))
    assert second.returncode == 0, second.log[-3000:]
    after_second = counts(database_url)
    # Nothing stored twice: same leads, offers and contacts; the re-run is one more run
    # with its own sightings (history), and moves last_seen.
    for table in ("leads", "offers", "contacts"):
        assert after_second[table] == after_first[table], table
    assert after_second["runs"] == 2
    assert after_second["sightings"] == 2 * after_first["sightings"]
    again = {row["lead_id"]: row for row in leads(database_url)}
    for row in stored:
        assert again[row["lead_id"]]["last_seen"] > row["last_seen"]
        assert again[row["lead_id"]]["first_seen"] == row["first_seen"]


def test_crawl_stats_show_rungs_gone_pages_and_persist_counts(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("kiwify", sqlite_url, "urls=" + ",".join(ALL_URLS))
    assert result.returncode == 0
    log = result.log
    assert "'kiwify/extract/meta/product'" in log
    assert "'kiwify/extract/text/seller'" in log
    assert "'kiwify/extract/no_lead': 1" in log
    assert "'kiwify/page/gone': 1" in log
    assert "'leadcrawler/persist/created'" in log
    # Personal data stays out of the log even at DEBUG (the test settings' level).
    assert "suporte@kiwify.com.br" not in log or "Scraped" not in log
    assert "contato@anadavilaconfeitaria.com.br" not in log


def test_usage_error_is_clear(run_crawl, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run_crawl("kiwify", sqlite_url, "urls_file=/nonexistent/urls.txt")
    assert result.returncode != 0
    assert "urls_file '/nonexistent/urls.txt' does not exist" in result.log
