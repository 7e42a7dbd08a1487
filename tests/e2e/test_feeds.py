"""`scrapy crawl kiwify -O leads.csv|leads.jsonl` gives the export's flat columns, read back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from leadcrawler.storage.export import COLUMNS
from tests.conftest import FIXTURES

EXPECTED = json.loads((FIXTURES / "kiwify_expected.json").read_text("utf-8"))
ALL_URLS = [c["url"] for c in EXPECTED["checkouts"]] + [s["url"] for s in EXPECTED["short_links"]]


def test_csv_feed_is_flat_excel_ready_and_guarded(
    run_crawl, sqlite_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "leads.csv"
    result = run_crawl("kiwify", sqlite_url, "urls=" + ",".join(ALL_URLS), "-O", str(feed))
    assert result.returncode == 0, result.log[-3000:]
    raw = feed.read_bytes()
    assert raw.startswith("\ufeff".encode())  # UTF-8 BOM: Excel reads the accents
    assert b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert tuple(rows[0]) == COLUMNS  # the same columns as `leadcrawler export`
    for row in rows:
        for cell in row.values():
            assert "Sighting(" not in cell and "Offer(" not in cell and "datetime." not in cell
            assert not cell.startswith(("=", "+", "-", "@"))  # CWE-1236
    producers = {c["producer"] for c in EXPECTED["checkouts"] if c.get("producer")}
    assert producers <= {row["name"] for row in rows}
    by_url = {row["source_urls"]: row for row in rows}
    first = by_url["https://pay.kiwify.com.br/7rTbW3x"]
    assert first["offers"] == (
        "Método Investidor Iniciante — R$ 197,00 — https://pay.kiwify.com.br/7rTbW3x"
    )
    assert first["platforms"] == "kiwify"
    assert first["tier"] in {"A", "B", "C"}
    assert first["score"].isdigit()
    assert first["first_seen"].endswith("Z") and "T" in first["first_seen"]
    ana = [row for row in rows if row["website"] == "https://www.anadavilaconfeitaria.com.br/"]
    assert ana, "the enriched sighting (her site's contacts) is in the feed"
    site = EXPECTED["producer_sites"][0]
    assert set(ana[0]["emails"].split(" | ")) >= set(site["emails"])
    # E.164 numbers start with '+': quoted so a spreadsheet never reads a formula.
    assert ana[0]["whatsapp"].startswith("'+55")


def test_jsonl_feed_keeps_nested_json(run_crawl, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "leads.jsonl"
    result = run_crawl("kiwify", sqlite_url, "urls=" + ",".join(ALL_URLS), "-O", str(feed))
    assert result.returncode == 0, result.log[-3000:]
    records = [json.loads(line) for line in feed.read_text("utf-8").splitlines()]
    assert records
    for record in records:
        assert tuple(record) == COLUMNS
        assert isinstance(record["offers"], list) and isinstance(record["presence"], dict)
        assert isinstance(record["emails"], list)
        assert "Sighting(" not in json.dumps(record)
    offers = {o["checkout_url"]: o for r in records for o in r["offers"]}
    offer = offers["https://pay.kiwify.com.br/7rTbW3x"]
    assert offer == {
        "platform": "kiwify",
        "product_name": "Método Investidor Iniciante",
        "price_brl": 197.0,
        "checkout_url": "https://pay.kiwify.com.br/7rTbW3x",
    }
