"""The bounded pool of kept-alive connections (leadcrawler/connections.py)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from twisted.internet.task import Clock
from twisted.web.client import HTTPConnectionPool

from leadcrawler.browser import GuardedPlaywrightHandler
from leadcrawler.connections import BoundedConnectionPool, bound_pool, pool_settings
from leadcrawler.exceptions import ConfigError
from settings import base

PROJECT_SETTINGS = {name: getattr(base, name) for name in dir(base) if name.isupper()}


class Transport:
    def __init__(self) -> None:
        self.closed = False

    def loseConnection(self) -> None:  # Twisted's name
        self.closed = True


class Connection:
    """An idle HTTP/1.1 client connection as the pool sees it."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.state = "QUIESCENT"
        self.transport = Transport()


def put(pool: BoundedConnectionPool, host: str) -> Connection:
    connection = Connection(host)
    pool._putConnection(("https", host, 443), connection)
    return connection


def test_idle_connections_over_all_hosts_are_bounded_oldest_closed_first() -> None:
    # Twisted's pool kept one connection per site of the last 240 s: memory grew with the
    # crawl's speed (issue 12's memory benchmark). At most max_idle stay, over all hosts.
    clock = Clock()
    pool = BoundedConnectionPool(clock, max_idle=3, idle_timeout=60.0)
    pool.maxPersistentPerHost = 16
    sites = [put(pool, f"site{i}.com.br") for i in range(5)]
    assert [c.transport.closed for c in sites] == [True, True, False, False, False]
    assert len(pool._timeouts) == 3
    assert sum(len(v) for v in pool._connections.values()) == 3
    assert len(clock.getDelayedCalls()) == 3  # the closed ones' timers are gone too
    # A connection taken for a request and put back is the most recently used again.
    reused = pool._connections[("https", "site2.com.br", 443)].pop(0)
    pool._timeouts.pop(reused).cancel()
    pool._putConnection(("https", "site2.com.br", 443), reused)
    newest = put(pool, "site5.com.br")
    assert sites[3].transport.closed and not reused.transport.closed
    assert not newest.transport.closed
    # Idle past the timeout: closed, whatever the bound.
    clock.advance(60.0)
    assert all(c.transport.closed for c in (*sites, newest))
    assert pool._timeouts == {} and pool._idle_keys == {}


def test_many_sites_leave_no_trace_beyond_the_bound() -> None:
    pool = BoundedConnectionPool(Clock(), max_idle=8, idle_timeout=60.0)
    pool.maxPersistentPerHost = 16
    for i in range(10_000):
        put(pool, f"produtor{i}.com.br")
    assert len(pool._timeouts) == 8
    assert len(pool._idle_keys) == 8
    assert sum(len(v) for v in pool._connections.values()) == 8


def test_the_project_handlers_get_the_bounded_pool() -> None:
    crawler = get_crawler(settings_dict=PROJECT_SETTINGS)
    handler = SimpleNamespace(_pool=HTTPConnectionPool(Clock(), persistent=True))
    handler._pool.maxPersistentPerHost = 4
    bound_pool(handler, crawler)  # type: ignore[arg-type]
    assert isinstance(handler._pool, BoundedConnectionPool)
    assert handler._pool.max_idle == 256
    assert handler._pool.cachedConnectionTimeout == 60.0
    assert handler._pool.maxPersistentPerHost == 4
    handlers = PROJECT_SETTINGS["DOWNLOAD_HANDLERS"]
    assert (
        handlers["http"] == handlers["https"] == "leadcrawler.connections.BoundedPoolHTTP11Handler"
    )
    assert issubclass(GuardedPlaywrightHandler, ScrapyPlaywrightDownloadHandler)
    assert "bound_pool(self, crawler)" in inspect.getsource(GuardedPlaywrightHandler.__init__)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"DOWNLOAD_POOL_MAX_IDLE": 0}, "DOWNLOAD_POOL_MAX_IDLE"),
        ({"DOWNLOAD_POOL_IDLE_TIMEOUT": 0}, "DOWNLOAD_POOL_IDLE_TIMEOUT"),
    ],
)
def test_contradictory_pool_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pool_settings(get_crawler(settings_dict={**PROJECT_SETTINGS, **settings}))
