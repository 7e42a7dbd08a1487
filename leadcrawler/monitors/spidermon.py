"""Spidermon, run the way this project needs it at spider close.

``SpidermonAtClose`` is Spidermon's own extension (``SPIDERMON_ENABLED``,
``SPIDERMON_SPIDER_CLOSE_MONITORS`` and its other settings work as documented) with three
changes:

- at spider close it waits for the run monitor (:mod:`leadcrawler.monitors.extension`) to
  store the run and compute its baselines, and hands that :class:`RunCheck` to the suites as
  ``data.run``;
- the suites (whose actions post to a webhook and write to the base) run in a thread, so the
  reactor never blocks on them; Spidermon's stock extension runs them on the reactor;
- its log lines go through a logger: Spidermon's ``SpiderMonitorResult`` writes them with
  ``Spider.log``, deprecated since Scrapy 2.13 (a ScrapyDeprecationWarning on every run), and
  logs a failed monitor as a full traceback; here a failure is one line with its message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from spidermon.contrib.scrapy.extensions import Spidermon
from spidermon.contrib.scrapy.runners import (
    LOG_MESSAGE_HEADER,
    SpiderMonitorResult,
    SpiderMonitorRunner,
)

from leadcrawler.monitors.extension import RunMonitor

if TYPE_CHECKING:
    from scrapy import Spider

logger = logging.getLogger("leadcrawler.monitors.spidermon")


class LoggedMonitorResult(SpiderMonitorResult):
    def log(self, msg: Any, level: int = logging.DEBUG) -> None:
        logger.log(level, "[%s] %s", LOG_MESSAGE_HEADER, msg)

    def write_errors(self) -> None:
        for status in self.step.error_statuses:
            for item in self.step.items_for_status(status):
                # A failure's reason is the monitor's message; an error's last line is the
                # exception (the traceback is Spidermon's, not news to the operator).
                reason = getattr(item, "reason", None) or str(item.error or "").strip()
                last = reason.splitlines()[-1] if reason else ""
                self.log_error(f"{item.status}: {item.item.name}: {last}")


class LoggedMonitorRunner(SpiderMonitorRunner):
    def create_result(self) -> LoggedMonitorResult:
        return LoggedMonitorResult(self.spider)


class SpidermonAtClose(Spidermon):
    async def spider_closed(self, spider: Spider) -> None:
        run = RunMonitor.of(self.crawler)
        if run is not None:
            await run.ready.wait()
        self._add_field_coverage_to_stats()
        try:
            await asyncio.to_thread(self._run_suites, spider, self.spider_closed_suites)
        finally:
            for task in self.periodic_tasks.pop(spider, []):
                task.stop()

    def _run_suites(self, spider: Spider, suites: list[Any]) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            LoggedMonitorRunner(spider=spider).run(suite, **data)

    def _generate_data_for_spider(self, spider: Spider) -> dict[str, Any]:
        data: dict[str, Any] = super()._generate_data_for_spider(spider)
        run = RunMonitor.of(self.crawler)
        data["run"] = run.check if run is not None else None
        return data
