"""Crawl-wide services, one per crawler: the historical base and the enricher chain.

``StorageExtension`` — one base per crawl. It reads ``DATABASE_URL`` and
``DATABASE_AUTO_MIGRATE``, opens the engine and migrates the schema once, on the first
component that asks (``await StorageExtension.of(crawler).base()``, in a thread: never on
the reactor), and disposes of it when the engine stops. The pipeline stages, the platform
spiders' frontier and the site spider all share it.

``EnricherExtension`` — the crawl's :class:`~leadcrawler.enricher.service.Chain`: each item
pipeline stage calls its step of it, so the steps share their rules (validate reads phones
as normalize does; persist re-scores with qualify's rules) and the base.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from leadcrawler.enricher.service import Chain
from leadcrawler.storage.base import Base

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class StorageExtension:
    def __init__(self, database_url: str, auto_migrate: bool) -> None:
        self.database_url = database_url
        self.auto_migrate = auto_migrate
        self._base: Base | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("DATABASE_URL") or ""
        if not url:
            raise NotConfigured("DATABASE_URL is empty")
        auto_migrate = settings.getbool("DATABASE_AUTO_MIGRATE")
        if settings.get("PERSIST_AUTO_MIGRATE") is not None:
            # The old name (before one base per crawl): honoured, with a nudge to rename it.
            logger.warning("PERSIST_AUTO_MIGRATE is now DATABASE_AUTO_MIGRATE; using its value")
            auto_migrate = settings.getbool("PERSIST_AUTO_MIGRATE")
        extension = cls(url, auto_migrate)
        crawler.signals.connect(extension.close, signal=signals.engine_stopped)
        return extension

    @classmethod
    def of(cls, crawler: Crawler) -> StorageExtension:
        extension = crawler.get_extension(cls)
        if extension is None:
            raise NotConfigured(
                "no historical base: DATABASE_URL is empty or EXTENSIONS leaves out "
                "leadcrawler.extensions.StorageExtension"
            )
        return extension

    def open(self) -> Base:
        """The crawl's base, opened (and migrated) on first use. Blocking."""
        with self._lock:
            if self._base is None:
                self._base = Base.open(self.database_url, self.auto_migrate)
            return self._base

    async def base(self) -> Base:
        return await asyncio.to_thread(self.open)

    def close(self) -> None:
        with self._lock:
            if self._base is not None:
                self._base.close()
                self._base = None


class EnricherExtension:
    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.chain = Chain(crawler.settings, crawler.stats)
        self._opened = False
        self._lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @classmethod
    def of(cls, crawler: Crawler) -> EnricherExtension:
        extension = crawler.get_extension(cls)
        if extension is None:
            raise NotConfigured("EXTENSIONS leaves out leadcrawler.extensions.EnricherExtension")
        return extension

    def _open_base(self) -> None:
        with self._lock:
            if self._opened:
                return
            storage = self.crawler.get_extension(StorageExtension)
            if self.chain.persister is not None and storage is not None:
                self.chain.use_base(storage.open())
            # else nothing is stored: dedupe works on this run's memory alone
            self._opened = True

    async def open_base(self) -> None:
        """Hand the crawl's base to the chain, once, when the chain stores leads.

        The dedupe and persist stages both call it, at the same time (Scrapy opens item
        pipelines in parallel): the first opens, the other waits for it.
        """
        await asyncio.to_thread(self._open_base)
