"""Unit tests for leadcrawler.middlewares: each middleware built with from_crawler from the
project's default settings, driven with requests, responses and a fake clock.

Real crawls through a misbehaving fixture web are in tests/test_resilience.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.request import getproxies

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadFailedError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Response, TextResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError, TCPTimedOutError

from leadcrawler.exceptions import ConfigError
from leadcrawler.middlewares import (
    CircuitBreakerMiddleware,
    DomainCircuitOpen,
    RetryAfterConfig,
    RetryAfterMiddleware,
    RobotsConfig,
    RobotsRules,
    RobotsTxtMiddleware,
    RobotsTxtUnreachable,
    SSRFBlocked,
    SSRFGuardMiddleware,
    address_block_reason,
    enforce_min_delay,
    parse_ipv4_spelling,
    parse_retry_after,
    product_token,
    resolve_host,
)
from settings import base

PROJECT_SETTINGS = {name: getattr(base, name) for name in dir(base) if name.isupper()}


def make_crawler(**overrides: Any) -> Crawler:
    return get_crawler(settings_dict={**PROJECT_SETTINGS, **overrides})


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that must finish without waiting on the reactor."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stat(crawler: Crawler, key: str) -> Any:
    assert crawler.stats is not None
    return crawler.stats.get_value(key)


# -- wiring --------------------------------------------------------------------------------


def test_project_settings_replace_scrapys_robots_middleware_and_order_ours() -> None:
    crawler = make_crawler()
    manager = build_from_crawler(DownloaderMiddlewareManager, crawler)
    names = [type(mw).__module__ + "." + type(mw).__name__ for mw in manager.middlewares]
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" not in names
    order = [
        "leadcrawler.middlewares.SSRFGuardMiddleware",
        "leadcrawler.middlewares.RobotsTxtMiddleware",
        "scrapy.downloadermiddlewares.retry.RetryMiddleware",
        "leadcrawler.middlewares.RetryAfterMiddleware",
        "leadcrawler.middlewares.CircuitBreakerMiddleware",
        "scrapy.downloadermiddlewares.redirect.RedirectMiddleware",
        "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware",
    ]
    assert [n for n in names if n in order] == order
    assert "leadcrawler/0.1" in crawler.settings["USER_AGENT"]
    # Network failures, for the breaker and the backoff, are what Scrapy retries.
    (breaker_mw,) = [mw for mw in manager.middlewares if isinstance(mw, CircuitBreakerMiddleware)]
    assert CannotResolveHostError in breaker_mw.failure_exceptions
    assert DownloadFailedError in breaker_mw.failure_exceptions


@pytest.mark.parametrize(
    ("middleware", "flag"),
    [
        (SSRFGuardMiddleware, "SSRF_ENABLED"),
        (RobotsTxtMiddleware, "ROBOTS_ENABLED"),
        (RobotsTxtMiddleware, "ROBOTSTXT_OBEY"),
        (RetryAfterMiddleware, "RETRY_AFTER_ENABLED"),
        (CircuitBreakerMiddleware, "CIRCUIT_BREAKER_ENABLED"),
    ],
)
def test_each_middleware_has_an_off_switch(middleware: Any, flag: str) -> None:
    with pytest.raises(NotConfigured, match=flag):
        middleware.from_crawler(make_crawler(**{flag: False}))


@pytest.mark.parametrize(
    ("middleware", "settings", "message"),
    [
        (SSRFGuardMiddleware, {"SSRF_ALLOWLIST": ["not a host"]}, "SSRF_ALLOWLIST"),
        (RobotsTxtMiddleware, {"ROBOTS_MAX_BYTES": 1024}, "RFC 9309"),
        (RobotsTxtMiddleware, {"ROBOTS_UNREACHABLE_TTL": 0}, "ROBOTS_UNREACHABLE_TTL"),
        (RobotsTxtMiddleware, {"ROBOTS_CRAWL_DELAY_MAX": -1}, "ROBOTS_CRAWL_DELAY_MAX"),
        (RobotsTxtMiddleware, {"ROBOTS_CACHE_SITES": 0}, "ROBOTS_CACHE_SITES"),
        (RetryAfterMiddleware, {"RETRY_AFTER_DEFAULT": 600}, "RETRY_AFTER_DEFAULT"),
        (RetryAfterMiddleware, {"RETRY_AFTER_BACKOFF_BASE": 90}, "RETRY_AFTER_BACKOFF_BASE"),
        (RetryAfterMiddleware, {"RETRY_AFTER_MAX": -1}, "RETRY_AFTER_"),
        (CircuitBreakerMiddleware, {"CIRCUIT_BREAKER_FAILURES": 0}, "CIRCUIT_BREAKER_FAILURES"),
        (CircuitBreakerMiddleware, {"CIRCUIT_BREAKER_COOLDOWN": 0}, "CIRCUIT_BREAKER_COOLDOWN"),
    ],
)
def test_contradictory_settings_are_refused(
    middleware: Any, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        middleware.from_crawler(make_crawler(**settings))


# -- SSRF guard ----------------------------------------------------------------------------


class FakeResolver:
    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


def guard(
    resolver: FakeResolver | None = None,
    proxies: dict[str, str] | None = None,
    allowlist: tuple[str, ...] = (),
) -> tuple[SSRFGuardMiddleware, Crawler]:
    crawler = make_crawler()
    assert crawler.stats is not None
    middleware = SSRFGuardMiddleware(
        crawler.stats, allowlist=allowlist, proxies=proxies, resolver=resolver or FakeResolver()
    )
    return middleware, crawler


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme"),
        ("ftp://ftp.example.com/x", "scheme"),
        ("data:text/plain,hi", "scheme"),
        ("http://127.0.0.1:8080/admin", "loopback"),
        ("http://user:secret@127.0.0.1/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "non_global"),
        ("http://[::1]/", "loopback"),
        ("http://[::]/", "unspecified"),
        ("http://[fe80::1]/", "link_local"),
        ("http://[fc00::1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "ipv4_mapped"),
        ("http://[::ffff:8.8.8.8]/", "ipv4_mapped"),
        ("http://[2002:7f00:1::]/", "ipv6_embedded"),
        ("http://[64:ff9b::a9fe:a9fe]/", "ipv6_embedded"),
        ("http://2130706433/", "ip_spelling"),
        ("http://0x7f.1/", "ip_spelling"),
        ("http://017700000001/", "ip_spelling"),
        ("http://127.1/", "ip_spelling"),
        ("http://0x08.0x08.0x08.0x08/", "ip_spelling"),  # 8.8.8.8: spelled oddly is refused
        ("http://127.000.000.001/", "ip_spelling"),
        ("http://1.2.3.4.5/", "bad_host"),
        ("http://shop.123/", "bad_host"),
        ("http://exa%6dple.com/", "bad_host"),
        ("http://localhost:8000/", "special_name"),
        ("http://LOCALHOST./", "special_name"),
        ("http://api.localhost/", "special_name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "special_name"),
        ("http://printer.local/", "special_name"),
        ("http://intranet/", "single_label"),
    ],
)
def test_guard_refuses(url: str, reason: str) -> None:
    middleware, crawler = guard()
    with pytest.raises(SSRFBlocked) as refused:
        run(middleware.process_request(Request(url)))
    assert isinstance(refused.value, IgnoreRequest)
    assert refused.value.reason == reason
    assert stat(crawler, f"leadcrawler/ssrf/blocked/{reason}") == 1


@pytest.mark.parametrize(
    "url", ["http://8.8.8.8/", "https://[2606:4700:4700::1111]/", "http://[64:ff9b::808:808]/"]
)
def test_guard_lets_public_addresses_through_without_dns(url: str) -> None:
    resolver = FakeResolver()
    middleware, _ = guard(resolver)
    assert run(middleware.process_request(Request(url))) is None
    assert resolver.asked == []


def test_guard_resolves_host_names_and_refuses_internal_answers() -> None:
    resolver = FakeResolver(
        {
            "www.produtora.com.br": ["200.147.67.142"],
            "rebind.example.com": ["10.0.0.7"],
            "split.example.com": ["93.184.215.14", "127.0.0.1"],
        }
    )
    middleware, crawler = guard(resolver)
    assert run(middleware.process_request(Request("https://www.produtora.com.br/contato"))) is None
    with pytest.raises(SSRFBlocked, match="private"):
        run(middleware.process_request(Request("http://rebind.example.com/")))
    # Any one internal address is enough: the connection could use it.
    with pytest.raises(SSRFBlocked, match="loopback"):
        run(middleware.process_request(Request("http://split.example.com/")))
    # Answers are cached: the same host is not resolved twice.
    run(middleware.process_request(Request("https://www.produtora.com.br/sobre")))
    assert resolver.asked.count("www.produtora.com.br") == 1
    assert stat(crawler, "leadcrawler/ssrf/blocked/private") == 1


def test_unresolvable_host_fails_like_a_dns_error() -> None:
    middleware, crawler = guard(FakeResolver())
    with pytest.raises(CannotResolveHostError):
        run(middleware.process_request(Request("http://nx.example.com/")))
    assert stat(crawler, "leadcrawler/ssrf/dns_error") == 1


def test_through_a_proxy_only_literal_addresses_and_special_names_are_checked() -> None:
    resolver = FakeResolver()
    middleware, _ = guard(resolver, proxies={"http": "http://127.0.0.1:3128"})
    # The proxy resolves names (the fixture web itself is a proxy on 127.0.0.1).
    assert run(middleware.process_request(Request("http://pay.kiwify.com.br/x"))) is None
    for url, reason in (
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://127.0.0.1:8080/", "loopback"),
        ("http://0x7f.1/", "ip_spelling"),
        ("http://localhost/", "special_name"),
    ):
        with pytest.raises(SSRFBlocked, match=reason):
            run(middleware.process_request(Request(url)))
    assert resolver.asked == []
    # meta["proxy"] = None switches the proxy off for one request: then the guard resolves.
    with pytest.raises(CannotResolveHostError):
        run(middleware.process_request(Request("http://nx.example.com/", meta={"proxy": None})))
    assert resolver.asked == ["nx.example.com"]


def test_proxy_from_meta_and_no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = FakeResolver()
    middleware, _ = guard(resolver)
    request = Request("http://shop.example.com/", meta={"proxy": "http://proxy.internal:3128"})
    assert run(middleware.process_request(request)) is None
    assert resolver.asked == []
    # The environment is read once, when the crawl starts (getproxies() puts no_proxy in "no").
    monkeypatch.setenv("no_proxy", "direct.example.com")
    middleware.proxies = getproxies()
    middleware.proxies["http"] = "http://127.0.0.1:3128"
    with pytest.raises(CannotResolveHostError):  # bypasses the proxy, so it is resolved here
        run(middleware.process_request(Request("http://direct.example.com/")))
    assert resolver.asked == ["direct.example.com"]


def test_allowlist_lets_test_servers_through() -> None:
    resolver = FakeResolver({"devbox.example.com": ["10.9.8.7"]})
    middleware, crawler = guard(resolver, allowlist=("127.0.0.1/32", "10.9.0.0/16", "LocalHost."))
    for url in ("http://127.0.0.1:8000/", "http://localhost:8000/", "http://devbox.example.com/"):
        assert run(middleware.process_request(Request(url))) is None, url
    with pytest.raises(SSRFBlocked):
        run(middleware.process_request(Request("http://127.0.0.2/")))
    assert stat(crawler, "leadcrawler/ssrf/allowlisted") == 1


def test_operator_configured_request_is_exempt_but_not_its_redirects() -> None:
    middleware, crawler = guard()
    api = Request("http://127.0.0.1:8888/search?q=x", meta={"ssrf_allow": True})
    assert run(middleware.process_request(api)) is None
    hop = api.replace(url="http://169.254.169.254/", meta={**api.meta, "redirect_urls": [api.url]})
    with pytest.raises(SSRFBlocked, match="link_local"):
        run(middleware.process_request(hop))
    with pytest.raises(SSRFBlocked, match="scheme"):
        run(middleware.process_request(Request("file:///etc/passwd", meta={"ssrf_allow": True})))
    assert stat(crawler, "leadcrawler/ssrf/exempt") == 1


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_parse_ipv4_spelling(spelling: str, address: str) -> None:
    assert parse_ipv4_spelling(spelling) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["256.1.1.1", "1.2.3.4.5", "4294967296", "09.1.1.1", "a.1", ""])
def test_parse_ipv4_spelling_rejects_non_addresses(host: str) -> None:
    assert parse_ipv4_spelling(host) is None


def test_public_addresses_have_no_block_reason() -> None:
    assert address_block_reason(ipaddress.ip_address("200.147.67.142")) is None
    assert address_block_reason(ipaddress.ip_address("2804:14c::1")) is None


def test_default_resolver_runs_getaddrinfo_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert asyncio.run(resolve_host("intranet.example.com", 443, 5.0)) == ["10.20.30.40"]
    middleware = SSRFGuardMiddleware.from_crawler(make_crawler())
    with pytest.raises(SSRFBlocked, match="private"):
        asyncio.run(middleware.process_request(Request("https://intranet.example.com/")))
    assert calls == ["intranet.example.com", "intranet.example.com"]


# -- robots.txt ----------------------------------------------------------------------------


def robots(clock: FakeClock | None = None, **settings: Any) -> tuple[RobotsTxtMiddleware, Crawler]:
    crawler = make_crawler(**settings)
    assert crawler.stats is not None
    config = RobotsConfig.from_settings(crawler.settings)
    return RobotsTxtMiddleware(config, crawler.stats, clock=clock or FakeClock()), crawler


def robots_response(status: int, body: str | bytes = b"") -> Response:
    raw = body.encode() if isinstance(body, str) else body
    return TextResponse("https://shop.example.com/robots.txt", status=status, body=raw)


SITE = "https://shop.example.com"


def allowed(middleware: RobotsTxtMiddleware, status: int, body: str | bytes, url: str) -> bool:
    rules = middleware.rules_from_response(SITE, robots_response(status, body))
    try:
        middleware.check(rules, Request(url), SITE)
    except IgnoreRequest:
        return False
    return True


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [
        ("leadcrawler/0.1 (+https://github.com/leadcrawler/leadcrawler#contact)", "leadcrawler"),
        (b"Mozilla/5.0 (compatible)", "mozilla"),
        ("  Lead_Crawler-2 x", "lead_crawler-2"),
        ("", ""),
    ],
)
def test_product_token(user_agent: str | bytes, token: str) -> None:
    assert product_token(user_agent) == token


def test_robots_rules_for_our_product_token() -> None:
    middleware, crawler = robots()
    assert middleware.config.user_agent == "leadcrawler"
    ours = "User-agent: leadcrawler\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    assert not allowed(middleware, 200, ours, f"{SITE}/produto")
    assert stat(crawler, "leadcrawler/robots/refused/disallowed") == 1
    # Our User-Agent header mentions github.com; a rule for "github" is not ours.
    assert allowed(middleware, 200, "User-agent: github\nDisallow: /\n", f"{SITE}/produto")
    longest = "User-agent: *\nDisallow: /loja\nAllow: /loja/publico\n"
    assert allowed(middleware, 200, longest, f"{SITE}/loja/publico/x")  # longer Allow wins
    assert not allowed(middleware, 200, longest, f"{SITE}/loja/x")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451, 301])
def test_unavailable_robots_txt_allows_everything(status: int) -> None:
    middleware, crawler = robots()
    assert allowed(middleware, status, "User-agent: *\nDisallow: /\n", f"{SITE}/anything")
    assert stat(crawler, "leadcrawler/robots/outcome/allow_all") == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_unreachable_robots_txt_disallows_everything_for_a_while(status: int) -> None:
    clock = FakeClock()
    middleware, crawler = robots(clock, ROBOTS_UNREACHABLE_TTL=600)
    rules = middleware.rules_from_response(SITE, robots_response(status, "User-agent: *\nAllow: /"))
    middleware.rules[SITE] = rules
    with pytest.raises(RobotsTxtUnreachable) as refused:
        middleware.check(rules, Request(f"{SITE}/produto"), SITE)
    assert isinstance(refused.value, IgnoreRequest)
    assert refused.value.retry_in == 600
    assert stat(crawler, "leadcrawler/robots/outcome/disallow_all") == 1
    assert stat(crawler, "leadcrawler/robots/refused/unreachable") == 1
    clock.now += 599
    assert middleware.cached_rules(SITE) is rules
    clock.now += 1
    assert middleware.cached_rules(SITE) is None  # fetched again on the next request


def test_robots_txt_beyond_the_parse_limit_is_ignored() -> None:
    middleware, crawler = robots()
    filler = "# " + "x" * 78 + "\n"
    body = "User-agent: *\nDisallow: /a\n" + filler * (600 * 1024 // len(filler)) + "Disallow: /b\n"
    assert not allowed(middleware, 200, body, f"{SITE}/a")
    assert allowed(middleware, 200, body, f"{SITE}/b")
    assert stat(crawler, "leadcrawler/robots/truncated") == 2


def test_crawl_delay_is_read_for_our_agent_and_capped() -> None:
    middleware, crawler = robots(ROBOTS_CRAWL_DELAY_MAX=30)
    ten = middleware.rules_from_response(
        SITE, robots_response(200, "User-agent: *\nCrawl-delay: 10\n")
    )
    assert ten.crawl_delay == 10
    day = "User-agent: leadcrawler\nCrawl-delay: 86400\n"
    assert middleware.rules_from_response(SITE, robots_response(200, day)).crawl_delay == 30
    assert stat(crawler, "leadcrawler/robots/crawl_delay/capped") == 1
    other = "User-agent: otherbot\nCrawl-delay: 10\n"
    assert middleware.rules_from_response(SITE, robots_response(200, other)).crawl_delay is None


@pytest.mark.parametrize(
    ("delay", "jitter", "minimum", "new_delay", "new_jitter"),
    [
        (0.5, 0.5, 10, 10, 0.0),  # raised to the Crawl-delay, no shorter gaps
        (20, 0.5, 10, 20, 0.5),  # AutoThrottle already waits longer: untouched
        (15, 0.5, 10, 15, 1 / 3),  # jitter narrowed so 15 s * (1 - j) >= 10 s
        (0, 0, 1, 1, 0.0),
    ],
)
def test_enforce_min_delay(
    delay: float, jitter: float, minimum: float, new_delay: float, new_jitter: float
) -> None:
    slot = Slot(4, delay, jitter)
    enforce_min_delay(slot, minimum)
    assert slot.delay == new_delay
    assert slot.jitter == pytest.approx(new_jitter)
    assert slot.delay * (1 - slot.jitter) >= minimum - 1e-9


def test_robots_answers_are_kept_for_the_most_recently_used_sites_only() -> None:
    # A crawl of 10,000 producers' sites must not hold 10,000 parsed robots.txt (issue 12).
    middleware, crawler = robots(ROBOTS_CACHE_SITES=2)
    fetched: list[str] = []

    async def download_rules(site: str) -> RobotsRules:
        fetched.append(site)
        return middleware.rules_from_response(site, robots_response(200, "User-agent: *\n"))

    middleware._download_rules = download_rules  # type: ignore[method-assign]
    a, b, c = (f"https://site{i}.example.com" for i in range(3))
    for site in (a, b, a, c):  # a is used again before c arrives: b is the oldest
        run(middleware.process_request(Request(f"{site}/contato")))
    assert fetched == [a, b, c]
    assert list(middleware.rules) == [a, c]
    assert stat(crawler, "leadcrawler/robots/cache_evicted") == 1
    run(middleware.process_request(Request(f"{b}/sobre")))  # b again: its robots.txt again
    assert fetched == [a, b, c, b]
    assert list(middleware.rules) == [c, b]


def test_requests_that_opt_out_or_are_not_http_skip_robots() -> None:
    middleware, _ = robots()
    assert (
        run(middleware.process_request(Request(f"{SITE}/x", meta={"dont_obey_robotstxt": True})))
        is None
    )
    assert run(middleware.process_request(Request("data:,robots"))) is None


# -- Retry-After ---------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds", "kind"),
    [
        ("120", 120.0, "seconds"),
        (b"0", 0.0, "seconds"),
        (" 30 ", 30.0, "seconds"),
        ("99999999", 99999999.0, "seconds"),
        ("9" * 5000, float("inf"), "seconds"),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0, "date"),
        ("Mon, 02 Mar 2026 11:00:00 GMT", 0.0, "date"),  # in the past
        (
            "Wed, 21 Oct 2099 07:28:00 GMT",
            (datetime(2099, 10, 21, 7, 28, tzinfo=UTC) - NOW).total_seconds(),
            "date",
        ),
        ("-1", None, "invalid"),
        ("abc", None, "invalid"),
        ("1.5", None, "invalid"),
        ("Mon, 01 Jan 99999 00:00:00 GMT", None, "invalid"),
        ("", None, "missing"),
        (None, None, "missing"),
    ],
)
def test_parse_retry_after(value: str | bytes | None, seconds: float | None, kind: str) -> None:
    assert parse_retry_after(value, NOW) == (seconds, kind)


CLOCK = FakeClock()


def retry_after(clock: FakeClock = CLOCK) -> tuple[RetryAfterMiddleware, Crawler]:
    crawler = make_crawler(
        RETRY_AFTER_DEFAULT=30,
        RETRY_AFTER_MAX=300,
        RETRY_AFTER_BACKOFF_BASE=1,
        RETRY_AFTER_BACKOFF_MAX=60,
    )
    assert crawler.stats is not None
    config = RetryAfterConfig.from_settings(crawler.settings)
    middleware = RetryAfterMiddleware(config, crawler.stats, clock=clock, rng=random.Random(7))
    return middleware, crawler


def paused_for(middleware: RetryAfterMiddleware, host: str, clock: FakeClock = CLOCK) -> float:
    until = middleware.paused_until.get(host)
    return 0.0 if until is None else until - clock()


def answer(
    middleware: RetryAfterMiddleware,
    status: int,
    retry_after: str | None = None,
    clock: FakeClock = CLOCK,
) -> float:
    """Seconds loja.example.com is paused for after this response."""
    url = "https://loja.example.com/p"
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    request = Request(url)
    response = Response(url, status=status, headers=headers, request=request)
    assert middleware.process_response(request, response) is response
    return paused_for(middleware, "loja.example.com", clock)


@pytest.mark.parametrize(
    ("status", "header", "pause"),
    [
        (429, "120", 120),
        (503, "120", 120),
        (429, "99999999", 300),  # capped
        (429, "Wed, 21 Oct 2099 07:28:00 GMT", 300),  # capped
        (429, "-1", 30),  # default
        (429, "abc", 30),
        (503, None, 30),
    ],
)
def test_retry_after_pauses_the_domain(status: int, header: str | None, pause: float) -> None:
    middleware, _ = retry_after()
    assert answer(middleware, status, header) == pytest.approx(pause)


def test_retry_after_stats_and_log(caplog: pytest.LogCaptureFixture) -> None:
    middleware, crawler = retry_after()
    with caplog.at_level(logging.INFO, logger="leadcrawler.middlewares"):
        answer(middleware, 429, "99999999")
    assert stat(crawler, "leadcrawler/retry_after/header/seconds") == 1
    assert stat(crawler, "leadcrawler/retry_after/capped") == 1
    assert stat(crawler, "leadcrawler/retry_after/pause_max_seconds") == 300
    assert "Pausing requests to loja.example.com for 300.00 s (HTTP 429)" in caplog.text


def test_a_short_pause_never_shortens_a_longer_one() -> None:
    clock = FakeClock()
    middleware, _ = retry_after(clock)
    assert answer(middleware, 429, "120", clock) == 120
    clock.now += 10
    assert answer(middleware, 429, "5", clock) == pytest.approx(110)
    assert set(middleware.paused_until) == {"loja.example.com"}  # other domains keep going


def test_retried_failures_back_off_exponentially_with_jitter() -> None:
    middleware, crawler = retry_after()
    for attempt in range(10):
        step = min(60.0, 2.0**attempt)
        for _ in range(20):
            wait = middleware.backoff(
                Request("https://x.example.com/", meta={"retry_times": attempt})
            )
            assert step / 2 <= wait <= step
    assert 0.5 <= answer(middleware, 502) <= 1  # first retry: 1 s, jittered 50-100 %
    assert stat(crawler, "leadcrawler/retry_after/backoff") == 1
    assert answer(retry_after()[0], 404) == 0  # not retried: nothing to wait for


def test_network_errors_back_off_and_refusals_do_not() -> None:
    middleware, _ = retry_after()
    request = Request("https://loja.example.com/p", meta={"retry_times": 3})
    assert middleware.process_exception(request, TCPTimedOutError()) is None
    assert 4 <= paused_for(middleware, "loja.example.com") <= 8
    other = Request("https://outra.example.com/p")
    middleware.process_exception(other, IgnoreRequest("robots"))
    middleware.process_exception(
        Request("https://x.example.com/", meta={"dont_retry": True}), DownloadFailedError()
    )
    assert set(middleware.paused_until) == {"loja.example.com"}


# -- circuit breaker -----------------------------------------------------------------------


def breaker(clock: FakeClock) -> tuple[CircuitBreakerMiddleware, Crawler]:
    crawler = make_crawler()
    assert crawler.stats is not None
    middleware = CircuitBreakerMiddleware(
        crawler.stats,
        failures=3,
        cooldown=60,
        failure_exceptions=(DownloadFailedError, DNSLookupError, OSError),
        clock=clock,
    )
    return middleware, crawler


def respond(middleware: CircuitBreakerMiddleware, url: str, status: int) -> None:
    request = Request(url)
    middleware.process_request(request)
    middleware.process_response(request, Response(url, status=status, request=request))


def fail(middleware: CircuitBreakerMiddleware, url: str, exc: Exception | None = None) -> None:
    request = Request(url)
    middleware.process_request(request)
    middleware.process_exception(request, exc or DownloadFailedError("connection lost"))


DEAD = "https://morta.example.com/p"


def test_breaker_opens_after_consecutive_failures_only(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    middleware, crawler = breaker(clock)
    fail(middleware, DEAD)
    respond(middleware, DEAD, 503)
    respond(middleware, DEAD, 200)  # a success resets the count
    fail(middleware, DEAD)
    respond(middleware, DEAD, 429)  # rate limiting is neither
    respond(middleware, DEAD, 500)
    assert middleware.state("morta.example.com") == "closed"
    with caplog.at_level(logging.INFO, logger="leadcrawler.middlewares"):
        fail(middleware, DEAD, DNSLookupError("morta.example.com"))
    assert middleware.state("morta.example.com") == "open"
    assert "Circuit for morta.example.com open after 3 consecutive failures" in caplog.text
    assert stat(crawler, "leadcrawler/circuit_breaker/opened") == 1

    clock.now += 10
    with pytest.raises(DomainCircuitOpen) as refused:
        middleware.process_request(Request(DEAD))
    assert isinstance(refused.value, IgnoreRequest)
    assert refused.value.domain == "morta.example.com"
    assert refused.value.retry_in == pytest.approx(50)
    # Other domains keep going.
    assert middleware.process_request(Request("https://viva.example.com/")) is None
    assert stat(crawler, "leadcrawler/circuit_breaker/rejected") == 1


def test_breaker_probes_once_after_the_cooldown_and_closes_on_success(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    middleware, crawler = breaker(clock)
    for _ in range(3):
        fail(middleware, DEAD)
    clock.now += 60
    probe = Request(DEAD)
    assert middleware.process_request(probe) is None  # the probe goes out
    with pytest.raises(DomainCircuitOpen):  # only one
        middleware.process_request(Request(DEAD))
    with caplog.at_level(logging.INFO, logger="leadcrawler.middlewares"):
        middleware.process_response(probe, Response(DEAD, status=404, request=probe))
    assert middleware.state("morta.example.com") == "closed"
    assert "Circuit for morta.example.com closed" in caplog.text
    assert middleware.process_request(Request(DEAD)) is None
    assert stat(crawler, "leadcrawler/circuit_breaker/probe") == 1
    assert stat(crawler, "leadcrawler/circuit_breaker/closed") == 1


def test_failed_or_lost_probe_opens_the_circuit_again() -> None:
    clock = FakeClock()
    middleware, crawler = breaker(clock)
    for _ in range(3):
        fail(middleware, DEAD)
    clock.now += 60
    fail(middleware, DEAD)  # the probe fails
    assert middleware.state("morta.example.com") == "open"
    assert stat(crawler, "leadcrawler/circuit_breaker/reopened") == 1
    with pytest.raises(DomainCircuitOpen):
        middleware.process_request(Request(DEAD))
    clock.now += 60
    middleware.process_request(Request(DEAD))  # a probe whose outcome never comes back
    clock.now += 30
    with pytest.raises(DomainCircuitOpen):
        middleware.process_request(Request(DEAD))
    clock.now += 30
    assert middleware.process_request(Request(DEAD)) is None  # another probe
    assert stat(crawler, "leadcrawler/circuit_breaker/probe") == 3


def test_refusals_and_bugs_are_not_domain_failures() -> None:
    middleware, _ = breaker(FakeClock())
    for exc in (IgnoreRequest("robots"), SSRFBlocked("x", "loopback"), ValueError("a bug")):
        for _ in range(5):
            fail(middleware, DEAD, exc)
    assert middleware.state("morta.example.com") == "closed"


def test_refusal_exceptions_keep_their_data() -> None:
    refused = DomainCircuitOpen("morta.example.com", 12.5)
    assert str(refused) == "circuit open for morta.example.com; retry in 12.5 s"
    assert refused.args == ("morta.example.com", 12.5)
    assert "unreachable" in str(RobotsTxtUnreachable("https://x.example.com", 60))
    assert str(SSRFBlocked("127.0.0.1", "loopback")) == "SSRF guard refused 127.0.0.1: loopback"


def test_every_source_host_has_its_own_politeness_slot() -> None:
    import settings.base as base
    from leadcrawler.domain.platforms import load_platforms

    hosts = {h for key in ("kiwify", "hubla", "hotmart") for h in load_platforms()[key].hosts}
    hosts -= {"www.hotmart.com"}  # redirects to hotmart.com
    hosts |= {"html.duckduckgo.com", "web.archive.org"}
    assert hosts <= set(base.DOWNLOAD_SLOTS)
    for slot in base.DOWNLOAD_SLOTS.values():
        assert slot["concurrency"] >= 1
        assert slot["delay"] > 0


def test_a_response_from_a_private_address_is_dropped_after_the_connection() -> None:
    """DNS rebinding: the name was public when checked, the connection went to 10.0.0.5."""
    import ipaddress

    from scrapy.http import HtmlResponse

    middleware, crawler = guard()
    request = Request("https://rebind.example.com.br/")
    rebound = HtmlResponse(
        request.url, body=b"<p>x</p>", request=request, ip_address=ipaddress.ip_address("10.0.0.5")
    )
    with pytest.raises(SSRFBlocked, match="after_connect/private"):
        middleware.process_response(request, rebound)
    assert crawler.stats.get_value("leadcrawler/ssrf/blocked/after_connect/private") == 1
    public = HtmlResponse(
        request.url, body=b"x", request=request, ip_address=ipaddress.ip_address("93.184.216.34")
    )
    assert middleware.process_response(request, public) is public
    # Through a proxy the peer is the proxy (here on loopback): its rules decide.
    proxied, _ = guard(proxies={"https": "http://127.0.0.1:3128"})
    local = HtmlResponse(
        request.url, body=b"x", request=request, ip_address=ipaddress.ip_address("127.0.0.1")
    )
    assert proxied.process_response(request, local) is local
