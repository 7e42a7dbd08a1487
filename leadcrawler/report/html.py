"""The report as one self-contained HTML page: inline SVG charts, no script or style from
anywhere else, so it opens offline and can be mailed as a file.

Charts (one series per source, x = the source's runs, oldest to newest):

- leads extracted per run;
- extraction success rate, with the alert threshold (``ALERTS_DROP_SHARE`` of each source's
  baseline, the median of its runs) drawn as a dashed line;
- coverage per field (e-mail, phone, WhatsApp, social, CNPJ, website), one chart per field,
  with the same kind of threshold;
- HTTP error and ban rates, with ``ALERTS_MAX_ERROR_RATE`` / ``ALERTS_MAX_BAN_RATE`` drawn.

Every alert raised by a run is listed under the charts.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadcrawler.monitors.alerts import AlertConfig
from leadcrawler.report.table import COLUMNS, row_cells

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")
COVERAGE_FIELDS = ("email", "phone", "whatsapp", "social", "cnpj", "website")
WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 640, 260, 48, 16, 16, 36


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    label: str
    color: str = "#555"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def line_chart(
    chart_id: str,
    title: str,
    series: dict[str, list[float | None]],
    *,
    unit: str = "",
    thresholds: Sequence[Threshold] = (),
    y_max: float | None = None,
) -> str:
    """An SVG line chart; ``None`` values are gaps."""
    values = [v for points in series.values() for v in points if v is not None]
    top = y_max if y_max is not None else max([*values, *(t.value for t in thresholds), 1.0])
    top = top * 1.1 if y_max is None else top
    longest = max((len(p) for p in series.values()), default=0)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(i: int) -> float:
        return PAD_L + (plot_w * i / (longest - 1) if longest > 1 else plot_w / 2)

    def y(v: float) -> float:
        return PAD_T + plot_h - (plot_h * v / top if top else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{_esc(title)}">',
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        'stroke="#ccc"/>',
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line class="grid" x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}" stroke="#eee"/><text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" '
            f'font-size="11" text-anchor="end">{v:.3g}{_esc(unit)}</text>'
        )
    for i in range(longest):
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - PAD_B + 16}" font-size="11" '
            f'text-anchor="middle">{i + 1}</text>'
        )
    parts.append(
        f'<text x="{PAD_L + plot_w / 2}" y="{HEIGHT - 4}" font-size="11" '
        'text-anchor="middle">run (oldest → newest)</text>'
    )
    for t in thresholds:
        parts.append(
            f'<line class="threshold" x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(t.value):.1f}" '
            f'y2="{y(t.value):.1f}" stroke="{t.color}" stroke-dasharray="6 4" '
            f'data-value="{t.value:g}"><title>{_esc(t.label)}</title></line>'
            f'<text x="{WIDTH - PAD_R - 4}" y="{y(t.value) - 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="{t.color}">{_esc(t.label)}</text>'
        )
    for n, (name, points) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for i, point in enumerate(points):
            if point is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{x(i):.1f},{y(point):.1f}")
            parts.append(
                f'<circle class="point" cx="{x(i):.1f}" cy="{y(point):.1f}" r="3" '
                f'fill="{color}"><title>{_esc(name)} run {i + 1}: {point:g}{_esc(unit)}</title>'
                "</circle>"
            )
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline class="series" data-series="{_esc(name)}" fill="none" '
                    f'stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>'
                )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{PALETTE[n % len(PALETTE)]}"></i>'
        f"{_esc(name)}</span>"
        for n, name in enumerate(series)
    )
    return (
        f'<figure class="chart" id="{_esc(chart_id)}"><figcaption>{_esc(title)}</figcaption>'
        f'{"".join(parts)}<div class="legend">{legend}</div></figure>'
    )


def _series(
    runs: Sequence[dict[str, Any]], pick: Callable[[dict[str, Any]], Any]
) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for run in runs:
        value = pick(run["metrics"])
        number = float(value) if isinstance(value, int | float) else None
        out.setdefault(str(run["source"]), []).append(number)
    return out


def _baseline_thresholds(
    series: dict[str, list[float | None]], share: float, what: str
) -> list[Threshold]:
    out = []
    for n, (source, points) in enumerate(series.items()):
        values = [v for v in points if v is not None]
        level = statistics.median(values) * share if values else 0.0
        if level > 0:  # a zero baseline alerts on nothing
            out.append(
                Threshold(
                    round(level, 1),
                    f"{source}: alert below {level:.1f}% ({share:.0%} of median {what})",
                    PALETTE[n % len(PALETTE)],
                )
            )
    return out


def _coverage_of(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda metrics: (metrics.get("coverage") or {}).get(field)


def render_html(
    runs: Sequence[dict[str, Any]], config: AlertConfig, now: datetime | None = None
) -> str:
    now = now or datetime.now(UTC)
    charts: list[str] = []
    leads = _series(runs, lambda m: m.get("leads_extracted"))
    charts.append(line_chart("leads", "Leads extracted per run", leads))
    success = _series(runs, lambda m: m.get("extraction_success_rate"))
    charts.append(
        line_chart(
            "extraction",
            "Extraction success rate (pages that named a producer)",
            success,
            unit="%",
            thresholds=_baseline_thresholds(success, config.drop_share, "success"),
            y_max=100,
        )
    )
    for field in COVERAGE_FIELDS:
        coverage = _series(runs, _coverage_of(field))
        if not any(v is not None for points in coverage.values() for v in points):
            continue
        charts.append(
            line_chart(
                f"coverage-{field}",
                f"Coverage: leads with a valid {field}",
                coverage,
                unit="%",
                thresholds=_baseline_thresholds(coverage, config.drop_share, "coverage"),
                y_max=100,
            )
        )
    errors = _series(runs, lambda m: m.get("http_error_rate"))
    charts.append(
        line_chart(
            "errors",
            "HTTP error rate (4xx/5xx answers and network errors)",
            errors,
            unit="%",
            thresholds=[
                Threshold(config.max_error_rate, f"alert above {config.max_error_rate:g}%")
            ],
            y_max=100,
        )
    )
    bans = _series(runs, lambda m: m.get("ban_rate"))
    charts.append(
        line_chart(
            "bans",
            "Ban rate (403/429 answers)",
            bans,
            unit="%",
            thresholds=[Threshold(config.max_ban_rate, f"alert above {config.max_ban_rate:g}%")],
            y_max=100,
        )
    )
    header = "".join(f"<th>{_esc(name)}</th>" for name, _w in COLUMNS)
    body = "".join(
        f"<tr><td>{_esc(run['source'])}</td>"
        + "".join(f"<td>{_esc(c)}</td>" for c in row_cells(run))
        + "</tr>"
        for run in runs
    )
    alerts = "".join(
        f"<li><b>{_esc(a['name'])}</b> (run {run['run_id']}, "
        f"{run['started_at']:%Y-%m-%d %H:%M}): {_esc(a['message'])}</li>"
        for run in runs
        for a in run["metrics"].get("alerts") or []
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>leadcrawler report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 1.5em; }}
figure.chart {{ margin: 0; }} figcaption {{ font-weight: 600; margin-bottom: .3em; }}
.legend .key {{ margin-right: 1em; font-size: 12px; }}
.legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
table {{ border-collapse: collapse; font-size: 12px; margin-top: 2em; }}
td, th {{ border: 1px solid #ddd; padding: 2px 6px; text-align: right; }}
</style></head>
<body>
<h1>leadcrawler: recent runs per source</h1>
<p>{len(runs)} run(s), generated {now:%Y-%m-%d %H:%M} UTC. Dashed lines are alert thresholds.</p>
<div class="charts">{"".join(charts)}</div>
<h2>Alerts</h2>
<ul class="alerts">{alerts or "<li>none</li>"}</ul>
<h2>Runs</h2>
<table><thead><tr><th>source</th>{header}</tr></thead><tbody>{body}</tbody></table>
</body></html>
"""
