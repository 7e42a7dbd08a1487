"""A run's metrics, computed from its final Scrapy stats (a plain dict; no Scrapy here).

Per source (the platform a spider crawls, else the spider's name):

- ``pages``: product pages fetched and parsed (``<source>/page/parsed``, a rendered second
  look not counted twice); ``leads_extracted``: those that named a producer;
  ``extraction_success_rate``: percent of ``pages`` that named one;
- ``extract_seconds_per_page``: mean time spent extracting per response;
- ``rungs``: fields found per rung of the extraction ladder;
- ``http_error_rate`` (4xx/5xx answers and network errors) and ``ban_rate`` (403/429) in
  percent of download attempts; ``circuit_openings``; ``circuits_open_at_end``;
- the enricher: ``enrich_success_rate``, ``enrich_seconds_per_lead``, ``coverage`` per field;
- the base: ``leads_new``, ``leads_updated``, ``leads_merged``, ``leads_received`` (reached
  the persist stage) and ``leads_parked`` (received but neither created nor updated);
- ``finish_reason``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RUNG_RE = re.compile(r"^(?P<source>[^/]+)/extract/(?P<rung>[a-z_]+)/(?P<field>[a-z_]+)$")


def _num(stats: Mapping[str, Any], key: str) -> float:
    value = stats.get(key, 0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def run_metrics(stats: Mapping[str, Any], source: str, finish_reason: str) -> dict[str, Any]:
    """The metrics of one run of ``source`` from its final stats."""
    pages = _num(stats, f"{source}/page/parsed")
    no_lead = _num(stats, f"{source}/extract/no_lead") + _num(stats, f"{source}/extract/not_html")
    named = max(pages - no_lead, 0.0)
    rungs: dict[str, int] = {}
    for key, value in stats.items():
        match = RUNG_RE.match(key)
        if match and match["source"] == source and isinstance(value, int):
            rung = match["rung"]
            if rung == "bad_state" or (rung == "render" and match["field"] == "requested"):
                continue  # counts of events, not fields found
            rungs[rung] = rungs.get(rung, 0) + value
    responses = _num(stats, "downloader/response_count")
    exceptions = _num(stats, "downloader/exception_count")
    attempts = responses + exceptions
    errors = exceptions + sum(
        _num(stats, key)
        for key in stats
        if key.startswith("downloader/response_status_count/")
        and key.rsplit("/", 1)[1].isdigit()
        and int(key.rsplit("/", 1)[1]) >= 400
    )
    bans = _num(stats, "downloader/response_status_count/403") + _num(
        stats, "downloader/response_status_count/429"
    )
    seconds = _num(stats, "leadcrawler/extract/seconds")
    parsed = _num(stats, "leadcrawler/extract/responses")
    opened = _num(stats, "leadcrawler/circuit_breaker/opened")
    closed = _num(stats, "leadcrawler/circuit_breaker/closed")
    created = _num(stats, "leadcrawler/persist/created")
    updated = _num(stats, "leadcrawler/persist/updated")
    received = _num(stats, "leadcrawler/persist/received")
    coverage = {
        key.rsplit("/", 1)[1]: value
        for key, value in stats.items()
        if key.startswith("leadcrawler/enrich/coverage/") and isinstance(value, int | float)
    }
    enrich_rate = stats.get("leadcrawler/enrich/success_rate")
    enrich_seconds = stats.get("leadcrawler/enrich/mean_seconds_per_lead")
    return {
        "source": source,
        "finish_reason": finish_reason,
        "pages": int(pages),
        "leads_extracted": int(named),
        "items": int(_num(stats, "item_scraped_count")),
        "extraction_success_rate": _pct(named, pages),
        "extract_seconds_per_page": round(seconds / parsed, 4) if parsed else None,
        "rungs": dict(sorted(rungs.items())),
        "requests": int(attempts),
        "http_error_rate": _pct(errors, attempts),
        "ban_rate": _pct(bans, attempts),
        "circuit_openings": int(opened),
        "circuits_open_at_end": int(max(opened - closed, 0)),
        "enrich_success_rate": enrich_rate if isinstance(enrich_rate, int | float) else None,
        "enrich_seconds_per_lead": (
            enrich_seconds if isinstance(enrich_seconds, int | float) else None
        ),
        "coverage": dict(sorted(coverage.items())),
        "leads_new": int(created),
        "leads_updated": int(updated),
        "leads_merged": int(_num(stats, "leadcrawler/persist/merged")),
        "leads_received": int(received),
        "leads_parked": int(max(received - created - updated, 0)),
    }
