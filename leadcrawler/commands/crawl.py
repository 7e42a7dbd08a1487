"""``scrapy crawl`` that ends a misconfigured crawl with one line and a non-zero exit.

Scrapy builds the spider, the pipeline stages and the middlewares when the crawl starts,
before any request is sent. A wrong spider argument (:class:`UsageError`), a wrong setting
of a switched-on component (:class:`ConfigError`) or a base that cannot be opened
(``DATABASE_URL`` unreachable, garbage, read-only) raised there used to surface as an
asyncio "Task exception was never retrieved" traceback. Here it is one line on standard
error naming the problem, and exit status 2 (usage, settings) or 1 (database).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError as ScrapyUsageError
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from leadcrawler.exceptions import ConfigError
from leadcrawler.privacy.config import PrivacyConfigError
from leadcrawler.spiders.base import UsageError as SpiderUsageError
from leadcrawler.storage.db import DatabaseUnavailable, check_database, describe_database_error

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)


def one_line_error(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit status for an error an operator caused, else None."""
    if isinstance(exc, (ConfigError, PrivacyConfigError, SpiderUsageError)):
        return str(exc), 2
    if isinstance(exc, ArgumentError):
        return f"DATABASE_URL is not a database URL ({exc})", 2
    if isinstance(exc, DatabaseUnavailable):
        return str(exc), 1
    if isinstance(exc, SQLAlchemyError):
        return describe_database_error(exc), 1
    return None


def auto_migrate(settings: Any) -> bool:
    """``DATABASE_AUTO_MIGRATE``, or the old ``PERSIST_AUTO_MIGRATE`` when that is set."""
    if settings.get("PERSIST_AUTO_MIGRATE") is not None:
        return bool(settings.getbool("PERSIST_AUTO_MIGRATE"))
    return bool(settings.getbool("DATABASE_AUTO_MIGRATE"))


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # raises Scrapy's usage error
            return
        assert self.crawler_process
        try:
            crawler = self._create_crawler(args[0])
        except KeyError as exc:
            raise ScrapyUsageError(str(exc).strip("\"'"), print_help=False) from None
        settings = crawler.settings
        if settings.getbool("PERSIST_ENABLED") or settings.getbool("FRONTIER_ENABLED"):
            try:
                check_database(settings.get("DATABASE_URL") or "", auto_migrate(settings))
            except DatabaseUnavailable as exc:
                print(f"error: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
        started: Any = self.crawler_process.crawl(crawler, **opts.spargs)
        failures: list[tuple[str, int]] = []

        def reported(exc: BaseException) -> bool:
            known = one_line_error(exc)
            if known is not None:
                failures.append(known)
            return known is not None

        if isinstance(started, asyncio.Future):

            def done(task: asyncio.Future[Any]) -> None:
                if task.cancelled():
                    return
                exc = task.exception()  # retrieved: asyncio prints no traceback for it
                if exc is not None and not reported(exc):
                    logger.error("The crawl failed: %s", exc, exc_info=exc)

            started.add_done_callback(done)
        else:  # a Twisted Deferred (non-asyncio reactor)
            started.addErrback(lambda failure: None if reported(failure.value) else failure)
        self.crawler_process.start()
        for message, status in failures:
            print(f"error: {message}", file=sys.stderr)
            self.exitcode = max(self.exitcode, status)
        if self.crawler_process.bootstrap_failed and not self.exitcode:
            self.exitcode = 1
