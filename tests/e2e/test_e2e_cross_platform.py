"""Kiwify, Hubla and Hotmart crawls into one base: exactly one lead per real producer.

Ground truth: tests/fixtures/cross_platform_expected.json. Each producer's "groups" are
the appearances that shared keys connect (an e-mail, a store id, a checkout, their own
site); a producer with two groups shares nothing but a name between them, and a name
alone must never link.
"""

from __future__ import annotations

import json
from typing import Any

from leadcrawler.domain.platforms import platform_for_url
from tests.conftest import FIXTURES
from tests.e2e.test_e2e_kiwify import leads

EXPECTED = json.loads((FIXTURES / "cross_platform_expected.json").read_text("utf-8"))


def urls_of(platform: str) -> list[str]:
    data = json.loads((FIXTURES / f"{platform}_expected.json").read_text("utf-8"))
    entries = data.get("checkouts") or data.get("pages") or []
    urls = [e["url"] for e in entries]
    urls += [s["url"] for s in data.get("short_links", [])]
    return list(dict.fromkeys(urls))


def lead_of(url: str, stored: list[dict[str, Any]]) -> str | None:
    platform = platform_for_url(url)
    if platform is None:  # a producer's own site
        owners = {
            row["lead_id"] for row in stored if row["website"] == url or url in row["source_urls"]
        }
    else:
        checkout = platform.checkout_url(url)
        owners = {
            row["lead_id"] for row in stored for o in row["offers"] if o["checkout_url"] == checkout
        }
    assert len(owners) <= 1, f"{url} is on {len(owners)} leads"
    return owners.pop() if owners else None


def test_one_lead_per_producer_across_platforms_and_sites(run_crawl, database_url: str) -> None:  # type: ignore[no-untyped-def]
    for spider in ("kiwify", "hubla", "hotmart"):
        result = run_crawl(spider, database_url, "urls=" + ",".join(urls_of(spider)))
        assert result.returncode == 0, result.log[-3000:]
    stored = leads(database_url)

    expected_leads = 0
    for producer in EXPECTED["producers"]:
        lead_ids = []
        for group in producer["groups"]:
            owners = {lead_of(url, stored) for url in group}
            owners.discard(None)
            assert len(owners) == 1, (producer["producer"], group, owners)
            lead_ids.append(owners.pop())
        # Groups that share only the name stay apart.
        assert len(set(lead_ids)) == len(producer["groups"]), producer["producer"]
        expected_leads += len(producer["groups"])
    assert len(stored) == expected_leads

    by_id = {row["lead_id"]: row for row in stored}
    ana = next(p for p in EXPECTED["producers"] if p["producer"] == "Ana D'Ávila")
    [ana_id] = {lead_of(url, stored) for url in ana["groups"][0]} - {None}
    ana_lead = by_id[ana_id]
    assert {o["platform"] for o in ana_lead["offers"]} == {"kiwify", "hubla", "hotmart"}
    # Every sighting is kept: each page where she appears (after its redirect) is a source.
    seen_at = {
        a.get("redirects_to", a["url"]) for a in ana["appearances"] if platform_for_url(a["url"])
    }
    assert seen_at <= set(ana_lead["source_urls"])
    assert "contato@anadavilaconfeitaria.com.br" in {c["value"] for c in ana_lead["contacts"]}

    names = {row["name"] for row in stored}
    for pair in EXPECTED["must_not_link"]:
        first, second = pair["producers"]
        assert not any(
            first in (row["name"] or "") and second in (row["name"] or "") for row in stored
        )
    assert "Vitor Hugo Investimentos" not in names  # another producer's data on a page
