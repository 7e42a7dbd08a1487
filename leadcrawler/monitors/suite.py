"""The alerts as a Spidermon monitor suite, run at spider close.

One :class:`~spidermon.Monitor` per alert condition of :mod:`leadcrawler.monitors.alerts`
(``CHECKS``); a monitor fails when its condition holds. The numbers come ready from the run
monitor (``data.run``, a :class:`~leadcrawler.monitors.extension.RunCheck`: the run's metrics
and its source's baselines), so a monitor only compares them. When any monitor fails, the
suite's action :class:`DeliverAlerts` logs each alert, posts them to ``ALERTS_WEBHOOK_URL``
(Slack-compatible JSON, bounded by ``ALERTS_WEBHOOK_TIMEOUT``) and stores them with the run.

Registered in settings:
``SPIDERMON_SPIDER_CLOSE_MONITORS = ["leadcrawler.monitors.suite.RunAlerts"]``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action
from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.monitors.alerts import CHECKS, deliver

if TYPE_CHECKING:
    from leadcrawler.monitors.extension import RunCheck

logger = logging.getLogger(__name__)


class AlertMonitor(Monitor):
    """Fails when its alert condition holds for this run."""

    alert: ClassVar[str] = ""

    def test_condition(self) -> None:
        run: RunCheck | None = self.data.get("run")
        if run is None:
            self.skipTest("no run metrics (MONITOR_ENABLED off, or the base unavailable)")
            return
        if not run.config.enabled:
            self.skipTest("ALERTS_ENABLED is off")
            return
        raised = CHECKS[self.alert](run.metrics, run.baselines, run.config)
        if raised:
            run.alerts.extend(raised)
            self.fail("; ".join(alert.message for alert in raised))


def _monitor(alert: str, doc: str) -> type[AlertMonitor]:
    cls = type(f"{alert.title().replace('_', '')}Monitor", (AlertMonitor,), {"alert": alert})
    cls.__doc__ = doc
    cls.__module__ = __name__
    return monitors.name(alert)(cls)


ALERT_MONITORS = [
    _monitor("zero_leads", "No lead extracted, where the source's recent runs had some."),
    _monitor("extraction_drop", "Extraction success far below the source's baseline."),
    _monitor("coverage_drop", "A field's coverage far below the source's baseline."),
    _monitor("error_rate", "HTTP error rate above ALERTS_MAX_ERROR_RATE."),
    _monitor("ban_rate", "403/429 rate above ALERTS_MAX_BAN_RATE."),
    _monitor("circuit_open", "A domain's circuit breaker still open at the end."),
    _monitor("finish_reason", "The crawl ended for another reason than 'finished'."),
    _monitor("leads_parked", "Fewer leads stored than reached the base."),
]
assert {m.alert for m in ALERT_MONITORS} == set(CHECKS), "one monitor per alert condition"


class DeliverAlerts(Action):
    """Log each alert, post them to the webhook, store them with the run (in the suite's
    thread: Spidermon runs actions synchronously)."""

    def __init__(self, crawler: Any = None) -> None:
        super().__init__()
        self.crawler = crawler

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        return {"crawler": crawler}

    def run_action(self) -> None:
        run: RunCheck | None = self.data.get("run")
        if run is None or not run.alerts:
            return
        sent = deliver(run.alerts, run.spider, run.run_id, run.config)
        try:
            run.save_alerts()
        except SQLAlchemyError as exc:
            logger.error("Alerts could not be stored with the run: %s", exc.__class__.__name__)
        stats = getattr(self.crawler, "stats", None)
        if stats is not None:
            stats.set_value("leadcrawler/monitor/alerts", len(run.alerts))
            if sent is not None:
                stats.set_value("leadcrawler/monitor/webhook_ok", sent)


@monitors.name("leadcrawler run alerts")
class RunAlerts(MonitorSuite):
    """Every alert condition of a run against fixed thresholds and its source's baseline."""

    monitors: ClassVar[list[Any]] = ALERT_MONITORS
    monitors_failed_actions: ClassVar[list[Any]] = [DeliverAlerts]
