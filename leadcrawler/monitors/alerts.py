"""Alerts: a run's metrics against fixed thresholds and the source's own baseline.

The baseline of a metric is the median of the same source's last ``ALERTS_BASELINE_RUNS``
finished runs in the base (not a hosted service); a baseline needs at least
``ALERTS_BASELINE_MIN_RUNS`` runs, so a new source raises no baseline alert.

| alert | condition |
|---|---|
| ``zero_leads`` | no lead extracted, where the baseline's median is above zero |
| ``extraction_drop`` | extraction success rate below ``ALERTS_DROP_SHARE`` of the baseline |
| ``coverage_drop`` | a field's coverage below ``ALERTS_DROP_SHARE`` of the baseline |
| ``error_rate`` | HTTP error rate above ``ALERTS_MAX_ERROR_RATE`` percent |
| ``ban_rate`` | 403/429 rate above ``ALERTS_MAX_BAN_RATE`` percent |
| ``circuit_open`` | a domain's circuit breaker still open when the crawl ended |
| ``finish_reason`` | the crawl ended for another reason than ``finished`` |
| ``leads_parked`` | fewer leads stored than reached the base (spilled to a file) |

Each condition is a plain function (``CHECKS``); at spider close they run as a Spidermon
monitor suite (:mod:`leadcrawler.monitors.suite`), whose failed action calls :func:`deliver`.

Delivery: one log line per alert (no personal data: alerts carry counts and rates only) and,
when ``ALERTS_WEBHOOK_URL`` (or the environment variable of that name) is set, one POST of
Slack-compatible JSON (``{"text": ..., "blocks": [...]}``).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)


class AlertConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AlertConfig:
    enabled: bool = True
    baseline_runs: int = 10  # runs of the same source the median is taken over
    baseline_min_runs: int = 3  # fewer earlier runs: no baseline alerts
    drop_share: float = 0.5  # a rate below this share of its baseline alerts
    max_error_rate: float = 20.0  # percent of download attempts
    max_ban_rate: float = 5.0  # percent of download attempts answered 403/429
    webhook_url: str = ""
    webhook_timeout: float = 10.0  # seconds

    @classmethod
    def from_settings(cls, settings: Any) -> AlertConfig:
        url = settings.get("ALERTS_WEBHOOK_URL") or os.environ.get("ALERTS_WEBHOOK_URL", "")
        config = cls(
            enabled=settings.getbool("ALERTS_ENABLED", True),
            baseline_runs=settings.getint("ALERTS_BASELINE_RUNS", 10),
            baseline_min_runs=settings.getint("ALERTS_BASELINE_MIN_RUNS", 3),
            drop_share=settings.getfloat("ALERTS_DROP_SHARE", 0.5),
            max_error_rate=settings.getfloat("ALERTS_MAX_ERROR_RATE", 20.0),
            max_ban_rate=settings.getfloat("ALERTS_MAX_BAN_RATE", 5.0),
            webhook_url=str(url),
            webhook_timeout=settings.getfloat("ALERTS_WEBHOOK_TIMEOUT", 10.0),
        )
        if config.baseline_runs < 1 or config.baseline_min_runs < 1:
            raise AlertConfigError("ALERTS_BASELINE_RUNS and ALERTS_BASELINE_MIN_RUNS must be >= 1")
        if not 0 < config.drop_share <= 1:
            raise AlertConfigError("ALERTS_DROP_SHARE must be in (0, 1]")
        if config.webhook_url and not config.webhook_url.startswith(("http://", "https://")):
            raise AlertConfigError("ALERTS_WEBHOOK_URL must be an http(s) URL")
        return config


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    source: str
    message: str
    value: float | str | None = None
    threshold: float | str | None = None


def baseline(history: Sequence[Mapping[str, Any]], path: str, min_runs: int) -> float | None:
    """Median of ``path`` (``"a"`` or ``"coverage.email"``) over earlier runs' metrics."""
    values: list[float] = []
    for metrics in history:
        value: Any = metrics
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            values.append(float(value))
    if len(values) < min_runs:
        return None
    return float(statistics.median(values))


Baselines = Mapping[str, float | None]


def baselines(
    metrics: Mapping[str, Any], history: Sequence[Mapping[str, Any]], config: AlertConfig
) -> dict[str, float | None]:
    """The baselines a run is compared with: ``metric path -> median`` of the source's
    last ``baseline_runs`` runs (``history``, newest first), None with too few runs."""
    history = list(history)[: config.baseline_runs]
    paths = ["leads_extracted", "extraction_success_rate"]
    paths += [f"coverage.{field}" for field in sorted(metrics.get("coverage") or {})]
    return {path: baseline(history, path, config.baseline_min_runs) for path in paths}


def zero_leads(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    leads_base = base.get("leads_extracted")
    if metrics.get("leads_extracted", 0) == 0 and leads_base:
        return [
            Alert(
                "zero_leads",
                source,
                f"{source}: no lead extracted; its last runs extracted {leads_base:g} (median)",
                0,
                leads_base,
            )
        ]
    return []


def extraction_drop(
    metrics: Mapping[str, Any], base: Baselines, config: AlertConfig
) -> list[Alert]:
    source = _source(metrics)
    rate, rate_base = metrics.get("extraction_success_rate"), base.get("extraction_success_rate")
    if rate is not None and rate_base and rate < rate_base * config.drop_share:
        return [
            Alert(
                "extraction_drop",
                source,
                f"{source}: extraction success {rate:g}% against a baseline of {rate_base:g}%",
                rate,
                round(rate_base * config.drop_share, 1),
            )
        ]
    return []


def coverage_drop(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    alerts: list[Alert] = []
    for field, share in sorted((metrics.get("coverage") or {}).items()):
        field_base = base.get(f"coverage.{field}")
        if field_base and share < field_base * config.drop_share:
            alerts.append(
                Alert(
                    "coverage_drop",
                    source,
                    f"{source}: {field} coverage {share:g}% against a baseline of {field_base:g}%",
                    share,
                    round(field_base * config.drop_share, 1),
                )
            )
    return alerts


def error_rate(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    errors = metrics.get("http_error_rate")
    if errors is not None and errors > config.max_error_rate:
        return [
            Alert(
                "error_rate",
                source,
                f"{source}: {errors:g}% of downloads failed (threshold {config.max_error_rate:g}%)",
                errors,
                config.max_error_rate,
            )
        ]
    return []


def ban_rate(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    bans = metrics.get("ban_rate")
    if bans is not None and bans > config.max_ban_rate:
        return [
            Alert(
                "ban_rate",
                source,
                f"{source}: {bans:g}% of downloads answered 403/429 "
                f"(threshold {config.max_ban_rate:g}%)",
                bans,
                config.max_ban_rate,
            )
        ]
    return []


def circuit_open(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    still_open = metrics.get("circuits_open_at_end", 0)
    if still_open:
        return [
            Alert(
                "circuit_open",
                source,
                f"{source}: {still_open} domain circuit(s) still open when the crawl ended",
                still_open,
                0,
            )
        ]
    return []


def finish_reason(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    reason = metrics.get("finish_reason")
    if reason and reason != "finished":
        return [
            Alert(
                "finish_reason",
                source,
                f"{source}: the crawl ended with {reason!r}",
                str(reason),
                "finished",
            )
        ]
    return []


def leads_parked(metrics: Mapping[str, Any], base: Baselines, config: AlertConfig) -> list[Alert]:
    source = _source(metrics)
    parked = metrics.get("leads_parked", 0)
    if parked:
        return [
            Alert(
                "leads_parked",
                source,
                f"{source}: {parked} lead(s) reached the base but were not stored (parked)",
                parked,
                0,
            )
        ]
    return []


Check = Callable[[Mapping[str, Any], Baselines, AlertConfig], list[Alert]]

# Every alert condition, by alert name; the Spidermon suite runs one monitor per entry.
CHECKS: dict[str, Check] = {
    "zero_leads": zero_leads,
    "extraction_drop": extraction_drop,
    "coverage_drop": coverage_drop,
    "error_rate": error_rate,
    "ban_rate": ban_rate,
    "circuit_open": circuit_open,
    "finish_reason": finish_reason,
    "leads_parked": leads_parked,
}


def evaluate(
    metrics: Mapping[str, Any], history: Sequence[Mapping[str, Any]], config: AlertConfig
) -> list[Alert]:
    """The alerts one run raises. ``history``: earlier runs of the same source, newest first."""
    base = baselines(metrics, history, config)
    return [alert for check in CHECKS.values() for alert in check(metrics, base, config)]


def _source(metrics: Mapping[str, Any]) -> str:
    return str(metrics.get("source") or "?")


def slack_payload(alerts: Sequence[Alert], spider: str, run_id: int | None) -> dict[str, Any]:
    """Slack-compatible incoming-webhook JSON: ``text`` for every client, plus blocks."""
    title = f"leadcrawler: {len(alerts)} alert(s) for {spider} (run {run_id})"
    lines = [f"• *{a.name}*: {a.message}" for a in alerts]
    return {
        "text": title + "\n" + "\n".join(lines),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        ],
        "alerts": [asdict(a) for a in alerts],  # machine-readable; Slack ignores it
    }


def deliver(
    alerts: Sequence[Alert], spider: str, run_id: int | None, config: AlertConfig
) -> bool | None:
    """Log each alert; POST them to the webhook. Blocking: call from a thread.

    Returns None without a webhook, else whether it accepted the alerts.
    """
    for alert in alerts:
        logger.error("ALERT %s: %s", alert.name, alert.message)
    if not alerts or not config.webhook_url:
        return None
    body = json.dumps(slack_payload(alerts, spider, run_id)).encode()
    request = urllib.request.Request(  # noqa: S310 - http(s) checked in AlertConfig
        config.webhook_url,
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config.webhook_timeout) as answer:  # noqa: S310
            ok = 200 <= answer.status < 300
    except OSError as exc:
        logger.error("Alerts could not be sent to the webhook: %s", exc.__class__.__name__)
        return False
    if not ok:
        logger.error("The alert webhook refused the alerts")
    return ok
