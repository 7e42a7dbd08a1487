"""The Scrapy side of run metrics: when a spider closes, store the run's metrics and compute
the source's baselines (one short read of its last runs), all database I/O in a thread.

The result, a :class:`RunCheck`, is what the Spidermon suite at spider close
(:mod:`leadcrawler.monitors.suite`, run by :mod:`leadcrawler.monitors.spidermon`) compares:
its monitors only compare numbers, its failed action delivers the alerts and stores them
with the run. The crawl's base comes from the storage extension (one base per crawl).
Settings: ``MONITOR_ENABLED`` and the ``ALERTS_*`` settings of :mod:`leadcrawler.monitors.alerts`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from leadcrawler.extensions import StorageExtension
from leadcrawler.monitors.alerts import Alert, AlertConfig, AlertConfigError, baselines
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


@dataclass(slots=True)
class RunCheck:
    """One finished run, ready to be checked: its metrics and its source's baselines."""

    spider: str
    source: str
    run_id: int
    metrics: dict[str, Any]
    baselines: dict[str, float | None]
    config: AlertConfig
    store: RunStore
    counts: dict[str, Any]
    started_at: datetime | None
    alerts: list[Alert] = field(default_factory=list)  # filled by the Spidermon monitors

    def save_alerts(self) -> None:
        """Store the raised alerts with the run (blocking: call from a thread)."""
        self.metrics["alerts"] = [asdict(alert) for alert in self.alerts]
        self.store.record(
            self.run_id,
            spider=self.spider,
            source=self.source,
            reason=str(self.metrics["finish_reason"]),
            metrics=self.metrics,
            counts=self.counts,
            started_at=self.started_at,
        )


class RunMonitor:
    def __init__(self, crawler: Crawler, config: AlertConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.check: RunCheck | None = None  # set at spider close, once the run is stored
        self.ready = asyncio.Event()  # set when ``check`` is final (None: nothing to check)

    @classmethod
    def of(cls, crawler: Crawler) -> RunMonitor | None:
        return crawler.get_extension(cls)

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
        try:
            assert self.crawler.stats is not None
            stats = dict(self.crawler.stats.get_stats())
            source = run_source(spider)
            metrics = run_metrics(stats, source, reason)
            self.check = await asyncio.to_thread(self._record, spider.name, source, metrics, stats)
        except NotConfigured as exc:
            logger.warning("Run metrics are not stored: %s", exc)
        except SQLAlchemyError as exc:
            logger.error("Run metrics could not be stored: %s", exc.__class__.__name__)
        finally:
            self.ready.set()  # whatever happened: the Spidermon suite waits for this

    def _record(
        self, spider: str, source: str, metrics: dict[str, Any], stats: dict[str, Any]
    ) -> RunCheck:
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
        metrics["alerts"] = []  # the Spidermon suite's failed action stores the raised ones
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
            "Run %s of %s: %d lead(s) extracted", run_id, source, metrics["leads_extracted"]
        )
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("leadcrawler/monitor/alerts", 0)
        return RunCheck(
            spider=spider,
            source=source,
            run_id=run_id,
            metrics=metrics,
            baselines=baselines(metrics, history, self.config),
            config=self.config,
            store=runs,
            counts=counts,
            started_at=started_at,
        )
