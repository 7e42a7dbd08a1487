"""The report as a text table, one block per source, oldest run first."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

COLUMNS = (
    ("run", 5), ("started (UTC)", 16), ("finish", 9), ("pages", 6), ("leads", 6),
    ("extr%", 6), ("s/page", 7), ("err%", 5), ("ban%", 5), ("circ", 4), ("new", 5),
    ("upd", 5), ("merged", 6), ("parked", 6), ("enr%", 5), ("email%", 6), ("phone%", 6),
    ("alerts", 0),
)  # fmt: skip


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def row_cells(run: dict[str, Any]) -> list[str]:
    m = run["metrics"]
    coverage = m.get("coverage") or {}
    alerts = ",".join(a["name"] for a in m.get("alerts") or []) or "-"
    return [
        str(run["run_id"]),
        run["started_at"].strftime("%Y-%m-%d %H:%M"),
        str(m.get("finish_reason") or "-")[:9],
        _fmt(m.get("pages")),
        _fmt(m.get("leads_extracted")),
        _fmt(m.get("extraction_success_rate")),
        _fmt(m.get("extract_seconds_per_page"), 3),
        _fmt(m.get("http_error_rate")),
        _fmt(m.get("ban_rate")),
        _fmt(m.get("circuit_openings")),
        _fmt(m.get("leads_new")),
        _fmt(m.get("leads_updated")),
        _fmt(m.get("leads_merged")),
        _fmt(m.get("leads_parked")),
        _fmt(m.get("enrich_success_rate")),
        _fmt(coverage.get("email")),
        _fmt(coverage.get("phone")),
        alerts,
    ]


def render_table(runs: Sequence[dict[str, Any]]) -> str:
    if not runs:
        return "No runs with metrics in the base yet (crawl first).\n"
    lines: list[str] = []
    for source, group in groupby(runs, key=lambda r: r["source"]):
        rows = list(group)
        lines.append(f"== {source}: {len(rows)} run(s) ==")
        lines.append(" ".join(f"{name:>{width}}" for name, width in COLUMNS).rstrip())
        for run in rows:
            cells = row_cells(run)
            lines.append(
                " ".join(f"{c:>{w}}" for c, (_n, w) in zip(cells, COLUMNS, strict=True)).rstrip()
            )
        lines.append("")
    return "\n".join(lines)
