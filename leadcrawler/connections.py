"""Kept-alive connections: a bounded pool for Scrapy's HTTP/1.1 download handler.

Twisted's pool keeps every idle connection for 240 s, per host, with no overall bound, and a
connection the server closed stays in it (a dead protocol with its TLS state) until that
timer fires. A crawl of producers' sites meets a new host every few requests, so the pool
held one connection per site of the last four minutes: at 15 sites a second, ~3,600 of
them, tens of MiB that grew with the crawl's speed (bench/README.md, memory).

:class:`BoundedConnectionPool` keeps at most ``DOWNLOAD_POOL_MAX_IDLE`` idle connections
over all hosts (the least recently used closed first) for at most
``DOWNLOAD_POOL_IDLE_TIMEOUT`` seconds each. Hosts in use keep their connections: a polite
crawl comes back to a site within its download delay.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from twisted.web.client import HTTPConnectionPool

from leadcrawler.exceptions import ConfigError


class BoundedConnectionPool(HTTPConnectionPool):
    def __init__(self, reactor: Any, max_idle: int, idle_timeout: float) -> None:
        super().__init__(reactor, persistent=True)
        self.max_idle = max_idle
        self.cachedConnectionTimeout = idle_timeout  # type: ignore[assignment]
        self._idle_keys: dict[Any, Hashable] = {}  # idle connection -> its key, oldest first

    def _putConnection(self, key: Hashable, connection: Any) -> None:
        super()._putConnection(key, connection)
        if connection not in self._timeouts:
            return  # refused (not quiescent)
        self._idle_keys.pop(connection, None)
        self._idle_keys[connection] = key
        if len(self._idle_keys) > 2 * len(self._timeouts) + 64:
            # Connections taken out of the pool and then closed are never put back.
            self._idle_keys = {c: k for c, k in self._idle_keys.items() if c in self._timeouts}
        while len(self._timeouts) > self.max_idle:
            oldest = next(iter(self._timeouts))
            owner = self._idle_keys.pop(oldest, None)
            if owner is None:  # not one of ours to name: cannot happen, never loop on it
                break
            self._timeouts[oldest].cancel()
            self._removeConnection(owner, oldest)

    def _removeConnection(self, key: Hashable, connection: Any) -> None:
        self._idle_keys.pop(connection, None)
        super()._removeConnection(key, connection)


def pool_settings(crawler: Crawler) -> tuple[int, float]:
    """``DOWNLOAD_POOL_MAX_IDLE`` and ``DOWNLOAD_POOL_IDLE_TIMEOUT``, checked."""
    settings = crawler.settings
    max_idle = settings.getint("DOWNLOAD_POOL_MAX_IDLE", 256)
    idle_timeout = settings.getfloat("DOWNLOAD_POOL_IDLE_TIMEOUT", 60.0)
    if max_idle < 1:
        raise ConfigError("DOWNLOAD_POOL_MAX_IDLE must be at least 1 connection")
    if idle_timeout <= 0:
        raise ConfigError("DOWNLOAD_POOL_IDLE_TIMEOUT must be > 0 seconds")
    return max_idle, idle_timeout


def bound_pool(handler: HTTP11DownloadHandler, crawler: Crawler) -> None:
    """Give ``handler`` (Scrapy's HTTP/1.1 handler or a subclass) a bounded pool."""
    old = handler._pool
    max_idle, idle_timeout = pool_settings(crawler)
    pool = BoundedConnectionPool(old._reactor, max_idle, idle_timeout)
    pool.maxPersistentPerHost = old.maxPersistentPerHost
    pool._factory = old._factory
    pool.retryAutomatically = old.retryAutomatically
    handler._pool = pool


class BoundedPoolHTTP11Handler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler with :class:`BoundedConnectionPool`."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        bound_pool(self, crawler)
