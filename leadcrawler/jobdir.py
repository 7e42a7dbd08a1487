"""A crawl with ``JOBDIR`` that was killed (kill -9, OOM, power loss) resumes safely.

Scrapy's on-disk request queue and seen-requests file are written for a graceful stop
(Ctrl-C once): their index is saved when the crawl closes. After a crash the files hold
records the new run misreads (a request read twice, another never). This extension marks a
job as running while it runs; if the mark is still there when the same job starts again,
the previous run crashed, and Scrapy's queue files are set aside before the scheduler opens
them. What the crash interrupted comes back from sources that are crash-safe: the frontier
(the spider takes back the URLs its journal says this job claimed) or the ``urls``/
``urls_file`` arguments (asked again; the base merges repeat sightings into the same lead).

Settings: ``JOBDIR``, ``CRASH_RECOVERY_ENABLED``.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

MARK = "leadcrawler-running"
SCRAPY_QUEUE_FILES = ("requests.queue", "requests.seen")


class CrashRecovery:
    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir
        self.mark = jobdir / MARK

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.get("JOBDIR"):
            raise NotConfigured  # nothing to recover: quietly off
        if not settings.getbool("CRASH_RECOVERY_ENABLED"):
            raise NotConfigured("CRASH_RECOVERY_ENABLED is off")
        extension = cls(Path(settings["JOBDIR"]))
        extension.prepare()  # now: the scheduler opens the queue files after extensions load
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def prepare(self) -> None:
        self.jobdir.mkdir(parents=True, exist_ok=True)
        if self.mark.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            aside = self.jobdir / f"crashed-{stamp}"
            aside.mkdir(exist_ok=True)
            for name in SCRAPY_QUEUE_FILES:
                path = self.jobdir / name
                if path.exists():
                    shutil.move(str(path), str(aside / name))
            logger.warning(
                "The previous run of this job (%s) did not stop cleanly: its request queue is "
                "set aside in %s; interrupted pages are taken back from the frontier or the "
                "given URLs",
                self.jobdir,
                aside.name,
            )
        self.mark.write_text(str(os.getpid()), "utf-8")

    def spider_closed(self) -> None:
        self.mark.unlink(missing_ok=True)
