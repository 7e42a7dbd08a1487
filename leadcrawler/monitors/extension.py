"""The Scrapy side of monitoring: when a spider closes, store the run's metrics, compare them
with the source's baseline and deliver the alerts (all database and webhook I/O in a thread).

The crawl's base comes from the storage extension (one base per crawl). Settings:
``MONITOR_ENABLED`` and the ``ALERTS_*`` settings of :mod:`leadcrawler.monitors.alerts`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.extensions import StorageExtension
from leadcrawler.monitors.alerts import AlertConfig, AlertConfigError, deliver, evaluate
from leadcrawler.monitors.metrics import run_metrics
from leadcrawler.storage.runs import RunStore

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

RUN_ID_STAT = "leadcrawler/run_id"  # set by the persist stage (a string: not a count)


def run_source(spider: Spider) -> str:
    """The source a spider crawls: its platform, else its name."""
    return str(getattr(spider, "platform_key", None) or spider.name)


class RunMonitor:
    def __init__(self, crawler: Crawler, config: AlertConfig) -> None:
        self.crawler = crawler
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("MONITOR_ENABLED"):
            raise NotConfigured("MONITOR_ENABLED is off")
        try:
            config = AlertConfig.from_settings(settings)
        except AlertConfigError as exc:
            raise NotConfigured(str(exc)) from exc
        monitor = cls(crawler, config)
        crawler.signals.connect(monitor.spider_closed, signal=signals.spider_closed)
        return monitor

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        source = run_source(spider)
        metrics = run_metrics(stats, source, reason)
        try:
            await asyncio.to_thread(self._record_and_alert, spider.name, source, metrics, stats)
        except NotConfigured as exc:
            logger.warning("Run metrics are not stored: %s", exc)
        except SQLAlchemyError as exc:
            logger.error("Run metrics could not be stored: %s", exc.__class__.__name__)

    def _record_and_alert(
        self, spider: str, source: str, metrics: dict[str, Any], stats: dict[str, Any]
    ) -> None:
        base = StorageExtension.of(self.crawler).open()  # the crawl's base, closed by its owner
        runs = RunStore(base.engine)
        raw_id = stats.get(RUN_ID_STAT)
        run_id = int(raw_id) if raw_id else None
        counts = {
            key: value
            for key, value in stats.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        started = stats.get("start_time")
        started_at = started if isinstance(started, datetime) else None
        history = runs.history(source, run_id, self.config.baseline_runs)
        alerts = evaluate(metrics, history, self.config) if self.config.enabled else []
        metrics["alerts"] = [asdict(alert) for alert in alerts]
        run_id = runs.record(
            run_id,
            spider=spider,
            source=source,
            reason=str(metrics["finish_reason"]),
            metrics=metrics,
            counts=counts,
            started_at=started_at,
        )
        logger.info(
            "Run %s of %s: %d lead(s) extracted, %d alert(s)",
            run_id,
            source,
            metrics["leads_extracted"],
            len(alerts),
        )
        sent = deliver(alerts, spider, run_id, self.config)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("leadcrawler/monitor/alerts", len(alerts))
            if sent is not None:
                self.crawler.stats.set_value("leadcrawler/monitor/webhook_ok", sent)
