"""Distributed crawling: several crawl processes share one Redis request queue and dupefilter.

Off by default. With ``DISTRIBUTED_ENABLED = True`` every ``scrapy crawl`` process that uses
the same ``REDIS_URL`` and ``DISTRIBUTED_KEY_PREFIX`` works on one crawl: requests any of
them schedules (start pages, redirects, site visits, rendered retries) go to one shared
Redis queue, any process may download them, and one shared dupefilter makes sure a page is
fetched once by the whole group. Leads go to the one base (``DATABASE_URL``, PostgreSQL).

What is used from scrapy-redis 0.9.1 and what is not: its queue (``PriorityQueue``) and its
dupefilter (``RFPDupeFilter``), through :class:`RedisScheduler`, a subclass of its scheduler.
Its ``RedisSpider`` is not used: it still builds start requests in ``start_requests()``,
which Scrapy 2.16 removed (scrapy-redis issue #305, PR #316 unreleased). The project's
spiders keep their own ``async def start()``; its requests simply enter the shared queue.

What the subclass changes:

* the queue is never popped with a blocking ``BRPOP`` (scrapy-redis' ``idle_before_close``
  blocks the reactor for that long); instead a process closes when the *shared* queue has
  stayed empty for ``DISTRIBUTED_IDLE_CLOSE`` seconds (scrapy-redis' spiders never close);
* the queue and dupefilter outlive one process (another one is still working on them) and
  are deleted by the last process of the crawl to leave, so the next crawl starts afresh;
  a process that stops before the queue is empty (Ctrl-C, a crash) leaves them, and the
  next process with the same prefix resumes the crawl;
* keys carry ``DISTRIBUTED_KEY_PREFIX``, so two crawls (or a test) never share state by
  accident.

Redis calls are synchronous (Scrapy's scheduler interface is): one short round trip per
scheduled and per popped request, never a blocking pop. Requests are pickled into Redis:
keep Redis private to the crawl machines (anyone who can write to it can run code on them).

Settings: ``DISTRIBUTED_ENABLED``, ``REDIS_URL``, ``DISTRIBUTED_KEY_PREFIX``,
``DISTRIBUTED_IDLE_CLOSE``, ``DISTRIBUTED_WORKER_TTL``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 10.0  # seconds between a worker's "still alive" marks


@dataclass(frozen=True, slots=True)
class DistributedConfig:
    redis_url: str
    key_prefix: str
    idle_close: float  # seconds the shared queue must stay empty before a process closes
    worker_ttl: float  # seconds without a heartbeat after which a worker counts as gone

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DistributedConfig:
        config = cls(
            redis_url=settings.get("REDIS_URL") or "",
            key_prefix=settings.get("DISTRIBUTED_KEY_PREFIX") or "",
            idle_close=settings.getfloat("DISTRIBUTED_IDLE_CLOSE"),
            worker_ttl=settings.getfloat("DISTRIBUTED_WORKER_TTL"),
        )
        if not config.redis_url:
            raise NotConfigured("DISTRIBUTED_ENABLED needs REDIS_URL")
        if not config.key_prefix:
            raise NotConfigured("DISTRIBUTED_KEY_PREFIX is empty")
        if config.idle_close < 0:
            raise NotConfigured("DISTRIBUTED_IDLE_CLOSE must be >= 0")
        if config.worker_ttl <= HEARTBEAT_INTERVAL:
            raise NotConfigured(f"DISTRIBUTED_WORKER_TTL must be above {HEARTBEAT_INTERVAL:g} s")
        return config

    def key(self, spider: str, what: str) -> str:
        return f"{self.key_prefix}:{spider}:{what}"


class DistributedCrawling:
    """Scrapy add-on (``ADDONS``): switches the scheduler to Redis when enabled."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.getbool("DISTRIBUTED_ENABLED"):
            return
        settings.set("SCHEDULER", "leadcrawler.distributed.RedisScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")


def is_distributed(settings: BaseSettings) -> bool:
    return settings.getbool("DISTRIBUTED_ENABLED")


class RedisScheduler(Scheduler):
    """scrapy-redis' scheduler with a shared idle-close and last-one-out clean-up."""

    def __init__(self, crawler: Crawler, config: DistributedConfig, server: Any) -> None:
        super().__init__(
            server=server,
            persist=True,  # the peers are still using the queue: see close()
            queue_key=config.key("%(spider)s", "requests"),
            queue_cls="scrapy_redis.queue.PriorityQueue",
            dupefilter_key=config.key("%(spider)s", "dupefilter"),
            dupefilter_cls="scrapy_redis.dupefilter.RFPDupeFilter",
            idle_before_close=0,  # never a blocking pop on the reactor
        )
        self.crawler = crawler
        self.config = config
        self.stats = crawler.stats
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.empty_since: float | None = None
        self.heartbeat: task.LoopingCall | None = None
        self.refill: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        from scrapy_redis.connection import get_redis_from_settings

        config = DistributedConfig.from_settings(crawler.settings)
        server = get_redis_from_settings(crawler.settings)
        server.ping()  # fail at start, with a clear error, when Redis is not there
        return cls(crawler, config, server)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = PriorityQueue(
            server=self.server, spider=spider, key=self.queue_key, serializer=None
        )
        self.df = RFPDupeFilter(
            self.server, key=self.dupefilter_key % {"spider": spider.name}, debug=False
        )
        self.workers_key = self.config.key(spider.name, "workers")
        self._beat()
        self.heartbeat = task.LoopingCall(self._beat)
        self.heartbeat.start(HEARTBEAT_INTERVAL, now=False)
        self.crawler.signals.connect(self._on_idle, signal=signals.spider_idle)
        waiting = len(self.queue)
        logger.info(
            "Distributed crawl %s: joined as %s with %d request(s) waiting in the shared queue",
            self.config.key(spider.name, "*"),
            self.worker_id,
            waiting,
        )

    def close(self, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        self.server.zrem(self.workers_key, self.worker_id)
        others = self._live_workers()
        waiting = len(self.queue)
        if not others and not waiting:
            # The last one out: the crawl is over, the next one starts with a clean slate.
            self.server.delete(self.df.key, self.queue.key, self.workers_key)
            logger.info("Distributed crawl finished: shared queue and dupefilter removed")
        else:
            logger.info(
                "Left the distributed crawl (%s): %d other worker(s), %d request(s) waiting",
                reason,
                len(others),
                waiting,
            )

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            self.stats.inc_value("leadcrawler/distributed/duplicate")
            return False
        self.queue.push(request)
        self.stats.inc_value("leadcrawler/distributed/enqueued")
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(0)
        if request is not None:
            self.empty_since = None
            self.stats.inc_value("leadcrawler/distributed/dequeued")
        return request

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0

    # Idle close ------------------------------------------------------------------------

    def _on_idle(self, spider: Spider) -> None:
        """Keep the process while the shared queue may still get work; close when it stays empty.

        While waiting, a spider with ``async def more_requests()`` (platform spiders reading
        the frontier) is asked for more: URLs that discovery added meanwhile are claimed and
        enter the shared queue.
        """
        if len(self.queue) > 0:
            self.empty_since = None
            raise DontCloseSpider
        if self.refill is not None and not self.refill.done():
            raise DontCloseSpider  # never close with a claim on its way
        now = time.monotonic()
        if self.empty_since is None:
            self.empty_since = now
        if now - self.empty_since < self.config.idle_close:
            more = getattr(spider, "more_requests", None)
            if more is not None:
                self.refill = asyncio.ensure_future(self._refill(more))
            raise DontCloseSpider
        logger.info("The shared queue stayed empty for %.0f s: closing", self.config.idle_close)

    async def _refill(self, more: Callable[[], Awaitable[list[Request]]]) -> None:
        try:
            requests = await more()
        except Exception:
            logger.exception("Could not get more requests for the shared queue")
            return
        if requests:
            self.empty_since = None
            assert self.crawler.engine is not None
            for request in requests:
                self.crawler.engine.crawl(request)

    # Workers ---------------------------------------------------------------------------

    def _beat(self) -> None:
        self.server.zadd(self.workers_key, {self.worker_id: time.time()})

    def _live_workers(self) -> list[str]:
        cutoff = time.time() - self.config.worker_ttl
        self.server.zremrangebyscore(self.workers_key, "-inf", cutoff)
        return [
            w.decode() if isinstance(w, bytes) else str(w)
            for w in self.server.zrange(self.workers_key, 0, -1)
        ]
