"""Real crawls through a misbehaving fixture web (tests/fixtures/resilience/<host>/): the
project's settings and downloader middlewares against 503s, 429s with every kind of
Retry-After, dead hosts, failing robots.txt files, a decompression bomb and redirects into
the crawler's own network.

Two crawls run once per module, each a ``scrapy runspider`` subprocess of a tiny probe spider
(items are ``{url, status}`` or ``{url, error}``; the pipelines are off): one with the circuit
breaker out of the way, so robots.txt and Retry-After behave as specified, and one with a
low threshold and a one-second cool-down for the breaker. Caps are small so both finish in
seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtureweb import FixtureWeb
from tests.conftest import FIXTURES, ROOT

PROBE_SPIDER = '''
"""Test-only spider: fetches the planned URLs, yields {url, status} or {url, error}."""

import asyncio
import json
import time
from pathlib import Path

import scrapy


class ResilienceProbe(scrapy.Spider):
    name = "resilience_probe"
    custom_settings = {"ITEM_PIPELINES": {}}  # the lead pipelines are not under test

    def __init__(self, plan, stats_out, **kwargs):
        super().__init__(**kwargs)
        self.plan = json.loads(Path(plan).read_text("utf-8"))
        self.stats_out = Path(stats_out)

    async def start(self):
        for entry in self.plan:
            meta = {"planned": entry["url"], "requeue": entry.get("requeue", 0)}
            yield scrapy.Request(
                entry["url"], callback=self.parse, errback=self.failed, dont_filter=True, meta=meta
            )

    def parse(self, response):
        yield {
            "url": response.meta["planned"],
            "final_url": response.url,
            "status": response.status,
            "title": response.css("title::text").get(),
            "at": time.monotonic(),
        }

    async def failed(self, failure):
        request, exc = failure.request, failure.value
        if type(exc).__name__ == "DomainCircuitOpen" and request.meta["requeue"] > 0:
            # What a frontier does with DomainCircuitOpen: keep the URL, retry after the cool-down.
            await asyncio.sleep(exc.retry_in + 0.05)
            meta = {**request.meta, "requeue": request.meta["requeue"] - 1}
            yield request.replace(dont_filter=True, meta=meta)
            return
        response = getattr(exc, "response", None)
        yield {
            "url": request.meta["planned"],
            "final_url": request.url,
            "error": type(exc).__name__,
            "reason": getattr(exc, "reason", None),
            "status": response.status if response is not None else None,
            "at": time.monotonic(),
        }

    def closed(self, reason):
        self.stats_out.write_text(json.dumps(self.crawler.stats.get_stats(), default=str), "utf-8")
'''

# Small caps so that a crawl takes seconds; the shape of the behaviour is the same.
FAST = {
    "LOG_LEVEL": "INFO",
    "RETRY_TIMES": 2,
    "RETRY_AFTER_DEFAULT": 0.3,
    "RETRY_AFTER_MAX": 1.5,
    "RETRY_AFTER_BACKOFF_BASE": 0.05,
    "RETRY_AFTER_BACKOFF_MAX": 0.2,
    "DOWNLOAD_TIMEOUT": 5,
}


@dataclass
class Crawl:
    returncode: int
    log: str
    items: dict[str, dict[str, Any]]  # by planned URL
    stats: dict[str, Any]
    requests: list[tuple[float, str, str, str]]  # the fixture web's timed log
    elapsed: float

    def times(self, host: str, path: str) -> list[float]:
        return [at for at, _, h, p in self.requests if h == host and p == path]

    def hosts(self) -> set[str]:
        return {h for _, _, h, _ in self.requests}


def crawl(
    web: FixtureWeb, workdir: Path, plan: list[dict[str, Any]], settings: dict[str, Any]
) -> Crawl:
    workdir.mkdir(parents=True, exist_ok=True)
    spider = workdir / "probe.py"
    spider.write_text(PROBE_SPIDER, "utf-8")
    (workdir / "plan.json").write_text(json.dumps(plan), "utf-8")
    env = {**os.environ, **web.proxy_env(), "SCRAPY_PROJECT": "test"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "scrapy", "runspider", str(spider)]
    command += ["-a", f"plan={workdir / 'plan.json'}", "-a", f"stats_out={workdir / 'stats.json'}"]
    command += ["-O", str(workdir / "items.json")]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    web.clear_requests()
    web.reset_sequences()
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    elapsed = time.monotonic() - started
    items_file = workdir / "items.json"
    items = json.loads(items_file.read_text("utf-8")) if items_file.exists() else []
    stats_file = workdir / "stats.json"
    stats = json.loads(stats_file.read_text("utf-8")) if stats_file.exists() else {}
    return Crawl(
        done.returncode,
        done.stderr,
        {item["url"]: item for item in items},
        stats,
        web.timed_requests,
        elapsed,
    )


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(FIXTURES / "resilience") as server:
        yield server


LIVE = [f"http://live.example/{p}" for p in ("", "a", "b", "c")]
RETRY_AFTER_HOSTS = {  # host -> (seconds the retry must wait, Retry-After kind)
    "ra-seconds.example": (1.5, "seconds"),  # "120", capped
    "ra-date.example": (1.5, "date"),  # 2099, capped
    "ra-negative.example": (0.3, "invalid"),  # "-1": the default
    "ra-garbage.example": (0.3, "invalid"),  # "abc": the default
    "ra-huge.example": (1.5, "seconds"),  # "99999999", capped
}
SSRF_REDIRECTS = {  # redirect.example path -> where it points and the refusal's reason
    "metadata": ("http://169.254.169.254/latest/meta-data/", "link_local"),
    "loopback": ("http://127.0.0.1:8080/admin", "loopback"),
    "decimal": ("http://2130706433/", "ip_spelling"),
    "hex": ("http://0x7f.1/", "ip_spelling"),
    "octal": ("http://017700000001/", "ip_spelling"),
    "mapped": ("http://[::ffff:127.0.0.1]/", "ipv4_mapped"),
    "localhost": ("http://localhost:8080/", "special_name"),
}
MAIN_PLAN = [
    *LIVE,
    "http://busy.example/page",
    *[f"http://{host}/" for host in RETRY_AFTER_HOSTS],
    "http://dead.example/",
    "http://dead.example/about",
    "http://robots-503.example/",
    "http://robots-404.example/",
    "http://robots-deny.example/",
    *[f"http://crawl-delay.example/{n}" for n in (1, 2, 3)],
    "http://bomb.example/bomb",
    "http://bomb.example/",
    *[f"http://redirect.example/{path}" for path in SSRF_REDIRECTS],
    "http://redirect.example/file",
    "http://redirect.example/public",
    "http://169.254.169.254/latest/meta-data/",
]


@pytest.fixture(scope="module")
def main_crawl(web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    settings = {
        **FAST,
        "CIRCUIT_BREAKER_FAILURES": 50,  # out of the way: robots.txt errors show as RFC 9309 says
        # AutoThrottle on, lowering delays to 0.2 s at most: Crawl-delay must still hold.
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0,
        "AUTOTHROTTLE_MAX_DELAY": 0.2,
    }
    plan = [{"url": url} for url in MAIN_PLAN]
    return crawl(web, tmp_path_factory.mktemp("main"), plan, settings)


@pytest.fixture(scope="module")
def breaker_crawl(web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    settings = {**FAST, "CIRCUIT_BREAKER_FAILURES": 2, "CIRCUIT_BREAKER_COOLDOWN": 1}
    plan = [
        {"url": "http://flaky.example/x", "requeue": 2},  # 500, 500, then 200
        {"url": "http://dead.example/", "requeue": 1},  # every connection dropped
        *({"url": url} for url in LIVE),
    ]
    return crawl(web, tmp_path_factory.mktemp("breaker"), plan, settings)


def test_crawl_survives_everything(main_crawl: Crawl) -> None:
    assert main_crawl.returncode == 0, main_crawl.log[-3000:]
    assert "Traceback" not in main_crawl.log, main_crawl.log[-3000:]
    assert set(main_crawl.items) == set(MAIN_PLAN)  # every URL has an outcome
    assert main_crawl.elapsed < 30


def test_live_host_finishes_next_to_a_dead_one(main_crawl: Crawl) -> None:
    for url in LIVE:
        assert main_crawl.items[url]["status"] == 200, url
    # dead.example drops every connection, robots.txt included: unreachable, so disallowed.
    for url in ("http://dead.example/", "http://dead.example/about"):
        assert main_crawl.items[url]["error"] == "RobotsTxtUnreachable"
    assert main_crawl.times("dead.example", "/") == []
    assert len(main_crawl.times("dead.example", "/robots.txt")) >= 3  # tried, retried, given up
    assert main_crawl.stats["leadcrawler/robots/error/DownloadFailedError"] == 1


def test_503_then_200_is_scraped_after_a_pause(main_crawl: Crawl) -> None:
    assert main_crawl.items["http://busy.example/page"]["title"] == "Busy page"
    first, second = main_crawl.times("busy.example", "/page")
    assert second - first >= 0.3 * 0.95  # RETRY_AFTER_DEFAULT: the 503 had no Retry-After


@pytest.mark.parametrize("host", sorted(RETRY_AFTER_HOSTS))
def test_retry_after_pauses_only_that_domain(main_crawl: Crawl, host: str) -> None:
    wait, _ = RETRY_AFTER_HOSTS[host]
    assert main_crawl.items[f"http://{host}/"]["status"] == 200
    first, second = main_crawl.times(host, "/")
    assert wait * 0.95 <= second - first <= wait + 1.5
    # Meanwhile the other domains kept going.
    assert max(main_crawl.times("live.example", "/c")) < second


def test_retry_after_stats(main_crawl: Crawl) -> None:
    stats = main_crawl.stats
    assert stats["leadcrawler/retry_after/header/seconds"] == 2
    assert stats["leadcrawler/retry_after/header/date"] == 1
    assert stats["leadcrawler/retry_after/header/invalid"] == 2
    assert stats["leadcrawler/retry_after/capped"] == 3
    assert stats["leadcrawler/retry_after/pause_max_seconds"] == 1.5


def test_robots_txt_503_disallows_the_site(main_crawl: Crawl) -> None:
    assert main_crawl.items["http://robots-503.example/"]["error"] == "RobotsTxtUnreachable"
    assert len(main_crawl.times("robots-503.example", "/robots.txt")) == 3  # retried, then gave up
    assert main_crawl.times("robots-503.example", "/") == []
    assert main_crawl.stats["leadcrawler/robots/status/503"] == 1
    assert main_crawl.stats["leadcrawler/robots/outcome/disallow_all"] == 2  # and dead.example
    assert "robots.txt of http://robots-503.example unreachable (HTTP 503)" in main_crawl.log


def test_robots_txt_404_allows_everything(main_crawl: Crawl) -> None:
    assert main_crawl.items["http://robots-404.example/"]["status"] == 200
    assert main_crawl.stats["leadcrawler/robots/outcome/allow_all"] == 1


def test_robots_txt_disallow_for_our_agent(main_crawl: Crawl) -> None:
    assert main_crawl.items["http://robots-deny.example/"]["error"] == "IgnoreRequest"
    assert main_crawl.times("robots-deny.example", "/") == []
    assert main_crawl.stats["leadcrawler/robots/refused/disallowed"] == 1


def test_crawl_delay_is_honoured_despite_autothrottle(main_crawl: Crawl) -> None:
    times = sorted(t for n in (1, 2, 3) for t in main_crawl.times("crawl-delay.example", f"/{n}"))
    robots = main_crawl.times("crawl-delay.example", "/robots.txt")
    gaps = [b - a for a, b in zip([*robots, *times], times, strict=False)]
    assert len(times) == 3 and min(gaps) >= 0.95, gaps  # Crawl-delay: 1
    assert main_crawl.stats["leadcrawler/robots/crawl_delay/sites"] == 1


def test_decompression_bomb_is_dropped_and_the_crawl_goes_on(main_crawl: Crawl) -> None:
    bomb = main_crawl.items["http://bomb.example/bomb"]
    assert bomb["error"] == "IgnoreRequest"
    assert "exceeded DOWNLOAD_MAXSIZE" in main_crawl.log
    assert main_crawl.items["http://bomb.example/"]["status"] == 200


@pytest.mark.parametrize("path", sorted(SSRF_REDIRECTS))
def test_redirect_into_the_crawlers_network_is_refused(main_crawl: Crawl, path: str) -> None:
    target, reason = SSRF_REDIRECTS[path]
    item = main_crawl.items[f"http://redirect.example/{path}"]
    assert (item["error"], item["reason"], item["final_url"]) == ("SSRFBlocked", reason, target)


def test_ssrf_refusals_never_reach_the_network(main_crawl: Crawl) -> None:
    direct = main_crawl.items["http://169.254.169.254/latest/meta-data/"]
    assert (direct["error"], direct["reason"]) == ("SSRFBlocked", "link_local")
    # Even through the proxy: no request for an internal address left the crawler.
    assert main_crawl.hosts().isdisjoint(
        {"169.254.169.254", "127.0.0.1", "2130706433", "0x7f.1", "017700000001", "localhost"}
    )
    stats = main_crawl.stats
    assert stats["leadcrawler/ssrf/blocked/link_local"] == 2
    assert stats["leadcrawler/ssrf/blocked/ip_spelling"] == 3
    assert stats["leadcrawler/ssrf/blocked/loopback"] == 1


def test_ordinary_redirects_still_work(main_crawl: Crawl) -> None:
    public = main_crawl.items["http://redirect.example/public"]
    assert (public["status"], public["final_url"]) == (200, "http://live.example/a")
    # A redirect to file:// is not followed at all (Scrapy keeps the 302).
    assert main_crawl.items["http://redirect.example/file"]["status"] == 302


def test_circuit_opens_probes_and_closes(breaker_crawl: Crawl) -> None:
    assert breaker_crawl.returncode == 0, breaker_crawl.log[-3000:]
    flaky = breaker_crawl.items["http://flaky.example/x"]
    assert flaky["title"] == "Flaky X"  # kept pending by the spider, fetched by the probe
    _, second, probe = breaker_crawl.times("flaky.example", "/x")
    assert probe - second >= 1.0 * 0.95  # CIRCUIT_BREAKER_COOLDOWN
    log = breaker_crawl.log
    assert "Circuit for flaky.example open after 2 consecutive failures (last: HTTP 500)" in log
    assert "Circuit for flaky.example closed" in log
    stats = breaker_crawl.stats
    assert stats["leadcrawler/circuit_breaker/opened"] == 2  # flaky and dead
    assert stats["leadcrawler/circuit_breaker/closed"] == 1
    assert stats["leadcrawler/circuit_breaker/rejected"] >= 2


def test_dead_domain_stays_open_and_others_finish(breaker_crawl: Crawl) -> None:
    dead = breaker_crawl.items["http://dead.example/"]
    assert dead["error"] == "DomainCircuitOpen"  # pending, not failed: the probe failed too
    assert breaker_crawl.stats["leadcrawler/circuit_breaker/reopened"] == 1
    assert "Circuit for dead.example open again: probe failed" in breaker_crawl.log
    for url in LIVE:
        assert breaker_crawl.items[url]["status"] == 200
    assert breaker_crawl.elapsed < 20
