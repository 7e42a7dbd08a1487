"""Downloader middlewares that keep a crawl polite and alive on a web that misbehaves.

One class per concern, each switched off by its own ``<PREFIX>_ENABLED`` setting; defaults and
units live in ``settings/base.py`` ("Crawl resilience"), where ``DOWNLOADER_MIDDLEWARES`` also
fixes their order:

``SSRFGuardMiddleware`` (60)
    Refuses requests (every redirect hop and retry included: they all pass ``process_request``
    again) to anything but public http(s) hosts. Reads ``SSRF_ENABLED``, ``SSRF_ALLOWLIST``
    and Scrapy's ``HTTPPROXY_ENABLED`` and ``DNS_TIMEOUT``.
``RobotsTxtMiddleware`` (100)
    robots.txt per RFC 9309, replacing Scrapy's, which fails open: a 4xx robots.txt allows
    everything, a 5xx or a network error disallows the host; ``Crawl-delay`` is honoured.
    Reads ``ROBOTS_ENABLED``, ``ROBOTS_CRAWL_DELAY_MAX``, ``ROBOTS_UNREACHABLE_TTL``,
    ``ROBOTS_MAX_BYTES`` and Scrapy's ``ROBOTSTXT_OBEY``, ``ROBOTSTXT_USER_AGENT``, ``USER_AGENT``.
``RetryAfterMiddleware`` (560)
    Pauses a domain's download slot after a 429/503 (``Retry-After``, capped) or another
    failure Scrapy retries (exponential backoff with jitter). Scrapy's ``RetryMiddleware`` (550)
    still re-schedules the request and bounds the attempts (``RETRY_TIMES``). Reads
    ``RETRY_AFTER_ENABLED``, ``RETRY_AFTER_DEFAULT``, ``RETRY_AFTER_MAX``,
    ``RETRY_AFTER_BACKOFF_BASE``, ``RETRY_AFTER_BACKOFF_MAX`` and Scrapy's ``RETRY_HTTP_CODES``
    and ``RETRY_EXCEPTIONS``.
``CircuitBreakerMiddleware`` (570)
    Stops sending to a domain after consecutive failures, probes it once after a cool-down.
    Reads ``CIRCUIT_BREAKER_ENABLED``, ``CIRCUIT_BREAKER_FAILURES``,
    ``CIRCUIT_BREAKER_COOLDOWN`` and Scrapy's ``RETRY_EXCEPTIONS`` (what a network failure is).

The last two sit above Scrapy's ``RetryMiddleware`` so that they see every attempt's response
or exception before it is turned into a retry.

Refusals are ``IgnoreRequest`` subclasses, so a caller (a frontier, an errback) can tell
"not now" from "never": ``DomainCircuitOpen`` and ``RobotsTxtUnreachable`` mean "keep the URL
pending and try later"; ``SSRFBlocked`` and a plain ``IgnoreRequest`` from robots.txt rules
mean "do not fetch".
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import math
import random
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, NoReturn
from urllib.parse import ParseResult, urlsplit
from urllib.request import getproxies, proxy_bypass_environment  # type: ignore[attr-defined]

from protego import Protego
from scrapy import Request, signals
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured, StopDownload
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import CallLaterResult, call_later, is_asyncio_available
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from leadcrawler.exceptions import ConfigError, DeferredRequest

if TYPE_CHECKING:
    from typing import Self

    from scrapy.core.downloader import Downloader, Slot
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Clock = Callable[[], float]
Resolver = Callable[[str, int], Awaitable[list[str]]]


# -- shared helpers ------------------------------------------------------------------------


def _downloader(crawler: Crawler | None) -> Downloader | None:
    engine = getattr(crawler, "engine", None) if crawler is not None else None
    return engine.downloader if engine is not None else None


def _slot_key(crawler: Crawler | None, request: Request) -> str:
    """The download slot a request goes (or went) through: the host unless meta says otherwise."""
    key = request.meta.get("download_slot")
    if key is not None:
        return str(key)
    downloader = _downloader(crawler)
    if downloader is not None:
        return downloader.get_slot_key(request)
    return urlparse_cached(request).hostname or ""


def _exception_classes(settings: BaseSettings) -> tuple[type[BaseException], ...]:
    """Scrapy's ``RETRY_EXCEPTIONS``: the transient network failures, as classes."""
    classes = []
    for entry in settings.getlist("RETRY_EXCEPTIONS"):
        cls = load_object(entry) if isinstance(entry, str) else entry
        if isinstance(cls, type) and issubclass(cls, BaseException):
            classes.append(cls)
    return tuple(classes)


# -- SSRF guard ----------------------------------------------------------------------------

# Names that never lead to a public site (RFC 6761, 6762, 8375 home.arpa; ICANN's .internal).
_SPECIAL_NAMES = ("localhost", "local", "localdomain", "internal", "arpa")
_HOST_CHARS = re.compile(r"^[a-z0-9_.-]+$")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DNS_CACHE_TTL = 60.0  # seconds a resolved host's addresses are reused
_DNS_CACHE_SIZE = 10_000  # hosts; the cache starts over when full


class SSRFBlocked(IgnoreRequest):
    """The SSRF guard refused a request; ``reason`` names the rule (``loopback``, ``scheme``...)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(host, reason)
        self.host = host
        self.reason = reason

    def __str__(self) -> str:
        return f"SSRF guard refused {self.host or '(no host)'}: {self.reason}"


def _ipv4_number(part: str) -> int | None:
    """One part of an IPv4 address as browsers and ``inet_aton`` read it (0x hex, 0 octal)."""
    if part.startswith("0x"):
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits:
        return 0
    try:
        return int(digits, base)
    except ValueError:
        return None


def parse_ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` spells in any form ``inet_aton`` accepts, else ``None``.

    ``2130706433``, ``0x7f.1`` and ``017700000001`` are all 127.0.0.1 to a resolver or a proxy.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_LABEL.match(p) for p in parts):
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def address_block_reason(address: IPAddress) -> str | None:
    """Why a request must not reach ``address``, or ``None`` for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return "ipv4_mapped"
        if address in _NAT64:  # DNS64 networks reach every IPv4 site this way
            nat64 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            return "ipv6_embedded" if address_block_reason(nat64) is not None else None
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and address_block_reason(embedded) is not None:
            return "ipv6_embedded"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link_local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for reason, hit in checks:
        if hit:
            return reason
    return None if address.is_global else "non_global"


async def resolve_host(host: str, port: int, timeout: float) -> list[str]:
    """The addresses ``host`` resolves to, looked up off the reactor thread."""
    if is_asyncio_available():
        loop = asyncio.get_running_loop()
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    else:
        # Imported here: the reactor Scrapy installed, not a default one at import time.
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThread

        d = deferToThread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        d.addTimeout(timeout, reactor)
        infos = await maybe_deferred_to_future(d)
    return [str(info[4][0]) for info in infos]


class SSRFGuardMiddleware:
    """Refuse requests that could reach the crawler's own network.

    Only http(s); no host that is or resolves to a loopback, private, link-local (cloud
    metadata at 169.254.169.254), reserved, multicast, unspecified or otherwise non-global
    address; no IPv4-mapped IPv6; no decimal/octal/hex IPv4 spellings; no ``localhost``-like
    special names or single-label names. Hostnames are resolved (in a thread) unless the
    request goes through a proxy (``meta["proxy"]`` or the ``http(s)_proxy`` environment
    that Scrapy's ``HttpProxyMiddleware`` uses): the proxy resolves then, so only literal
    addresses and special names are checked. ``SSRF_ALLOWLIST`` (host names and CIDRs) lets
    tests reach local servers; ``meta["ssrf_allow"] = True`` exempts one request a spider
    built from operator configuration (e.g. a self-hosted search API on 127.0.0.1), but
    not the redirects it leads to.

    A host whose DNS answer changes between this check and the connection (DNS rebinding) is
    caught after the fact by :meth:`process_response` (the response is dropped, the request
    was sent); production crawls should also run behind an egress firewall.
    Reads ``SSRF_ENABLED``, ``SSRF_ALLOWLIST``, ``HTTPPROXY_ENABLED``, ``DNS_TIMEOUT``.
    """

    def __init__(
        self,
        stats: StatsCollector,
        *,
        allowlist: Iterable[str] = (),
        proxies: Mapping[str, str] | None = None,
        dns_timeout: float = 60.0,
        resolver: Resolver | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.stats = stats
        self.allowed_hosts: set[str] = set()
        self.allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowlist:
            entry = entry.strip().lower().rstrip(".")
            try:
                self.allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not _HOST_CHARS.match(entry):
                    raise ConfigError(f"SSRF_ALLOWLIST: {entry!r} is no host or CIDR") from None
                self.allowed_hosts.add(entry)
        self.proxies = dict(proxies or {})
        self.dns_timeout = dns_timeout
        self._resolver = resolver
        self._clock = clock
        self._dns_cache: dict[str, tuple[float, list[IPAddress]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("SSRF_ENABLED"):
            raise NotConfigured("SSRF_ENABLED is False")
        assert crawler.stats is not None
        proxies = getproxies() if settings.getbool("HTTPPROXY_ENABLED") else {}
        return cls(
            crawler.stats,
            allowlist=settings.getlist("SSRF_ALLOWLIST"),
            proxies=proxies,
            dns_timeout=settings.getfloat("DNS_TIMEOUT"),
        )

    async def process_request(self, request: Request) -> None:
        host = self.check(request)
        if host is None:
            return
        parsed = urlparse_cached(request)
        port = 443 if parsed.scheme == "https" else 80
        for address in await self._addresses(host, port):
            if self._network_allowed(address):
                continue
            reason = address_block_reason(address)
            if reason is not None:
                self._block(host, reason, resolved=address)

    def process_response(self, request: Request, response: Response) -> Response:
        """Check the address the download actually connected to (DNS rebinding).

        A host that resolved to a public address for :meth:`process_request` may resolve to a
        private one a moment later, when the connection is made. Scrapy records the peer's
        address in ``response.ip_address``; a private one means the response is dropped
        (``leadcrawler/ssrf/blocked/after_connect/<reason>``) and nothing from it is read. The
        request itself has been sent by then: only an egress firewall stops that. Through a
        proxy the peer is the proxy, so the proxy's own rules decide.
        """
        address = response.ip_address
        if address is None or (
            request.meta.get("ssrf_allow") and not request.meta.get("redirect_urls")
        ):
            return response
        parsed = urlparse_cached(request)
        if (parsed.hostname or "") in self.allowed_hosts or self._proxied(request, parsed):
            return response
        if self._network_allowed(address):
            return response
        reason = address_block_reason(address)
        if reason is not None:
            self._block(parsed.hostname or "", f"after_connect/{reason}", resolved=address)
        return response

    def check(self, request: Request) -> str | None:
        """Raise ``SSRFBlocked`` for a refused URL; return the host name still to resolve."""
        try:
            parsed = urlparse_cached(request)
        except ValueError:  # an unparsable netloc, e.g. a bad IPv6 literal
            self._block("", "bad_host")
        if parsed.scheme not in {"http", "https"}:
            self._block(parsed.hostname or "", "scheme")
        if request.meta.get("ssrf_allow") and not request.meta.get("redirect_urls"):
            # A request the spider built from operator configuration (a local search API),
            # never a redirect hop: the redirected copy of its meta does not count.
            self.stats.inc_value("leadcrawler/ssrf/exempt")
            return None
        host = (parsed.hostname or "").rstrip(".")
        if not host:
            self._block(host, "bad_host")
        if host in self.allowed_hosts:
            self.stats.inc_value("leadcrawler/ssrf/allowlisted")
            return None
        literal = self._literal_address(host)
        if literal is not None:
            if not self._network_allowed(literal):
                reason = address_block_reason(literal)
                if reason is not None:
                    self._block(host, reason)
            return None
        if not _HOST_CHARS.match(host):
            self._block(host, "bad_host")
        if any(host == name or host.endswith("." + name) for name in _SPECIAL_NAMES):
            self._block(host, "special_name")
        if "." not in host:  # "intranet", "router": search domains make them local names
            self._block(host, "single_label")
        if self._proxied(request, parsed):
            return None  # the proxy resolves the name
        return host

    def _literal_address(self, host: str) -> IPAddress | None:
        if ":" in host:
            try:
                return ipaddress.IPv6Address(host)
            except ValueError:
                self._block(host, "bad_host")
        if not _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            return None
        # The last label is a number: browsers, resolvers and proxies read this as IPv4.
        try:
            return ipaddress.IPv4Address(host)
        except ValueError:
            spelled = parse_ipv4_spelling(host) is not None
            self._block(host, "ip_spelling" if spelled else "bad_host")

    def _network_allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allowed_networks)

    def _proxied(self, request: Request, parsed: ParseResult) -> bool:
        if "proxy" in request.meta:
            return request.meta["proxy"] is not None
        # The proxy settings read once at start (as Scrapy's HttpProxyMiddleware does), not
        # urllib's proxy_bypass(), which re-reads the whole environment on every request.
        return parsed.scheme in self.proxies and not proxy_bypass_environment(
            parsed.hostname or "", self.proxies
        )

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        now = self._clock()
        cached = self._dns_cache.get(host)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            if self._resolver is not None:
                raw = await self._resolver(host, port)
            else:
                raw = await resolve_host(host, port, self.dns_timeout)
        except (OSError, TimeoutError, defer.TimeoutError) as exc:
            self.stats.inc_value("leadcrawler/ssrf/dns_error")
            raise CannotResolveHostError(f"{host}: {exc}") from exc
        addresses = [ipaddress.ip_address(a) for a in raw]
        if not addresses:
            self.stats.inc_value("leadcrawler/ssrf/dns_error")
            raise CannotResolveHostError(f"{host}: no address")
        if len(self._dns_cache) >= _DNS_CACHE_SIZE:
            self._dns_cache.clear()
        self._dns_cache[host] = (now + _DNS_CACHE_TTL, addresses)
        return addresses

    def _block(self, host: str, reason: str, resolved: IPAddress | None = None) -> NoReturn:
        self.stats.inc_value(f"leadcrawler/ssrf/blocked/{reason}")
        if resolved is None:
            logger.info("SSRF guard refused host %r: %s", host, reason)
        else:
            logger.info("SSRF guard refused host %r: resolves to %s (%s)", host, resolved, reason)
        raise SSRFBlocked(host, reason)


# -- robots.txt (RFC 9309) -----------------------------------------------------------------

RFC9309_MIN_PARSE_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB
# A robots.txt may announce (Content-Length) up to this; only ROBOTS_MAX_BYTES are read.
ROBOTS_ANNOUNCED_MAXSIZE = 1024 * 1024 * 1024


class RobotsTxtUnreachable(DeferredRequest):
    """robots.txt answered 5xx/429 or could not be fetched: the host is off limits for now."""

    def __init__(self, site: str, retry_in: float) -> None:
        super().__init__(site, retry_in)
        self.site = site
        self.retry_in = retry_in

    def __str__(self) -> str:
        return f"robots.txt of {self.site} unreachable; retry in {self.retry_in:.0f} s"


@dataclass(frozen=True, slots=True)
class RobotsConfig:
    crawl_delay_max: float  # seconds
    unreachable_ttl: float  # seconds
    max_bytes: int
    user_agent: str  # the product token matched against User-agent lines
    cache_sites: int = 4096  # sites whose answer is kept (least recently used go first)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RobotsConfig:
        config = cls(
            crawl_delay_max=settings.getfloat("ROBOTS_CRAWL_DELAY_MAX"),
            unreachable_ttl=settings.getfloat("ROBOTS_UNREACHABLE_TTL"),
            max_bytes=settings.getint("ROBOTS_MAX_BYTES"),
            cache_sites=settings.getint("ROBOTS_CACHE_SITES", 4096),
            user_agent=product_token(
                settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or ""
            ),
        )
        if config.crawl_delay_max < 0:
            raise ConfigError("ROBOTS_CRAWL_DELAY_MAX must be >= 0 seconds")
        if config.unreachable_ttl <= 0:
            raise ConfigError("ROBOTS_UNREACHABLE_TTL must be > 0 seconds")
        if config.max_bytes < RFC9309_MIN_PARSE_BYTES:
            raise ConfigError(f"ROBOTS_MAX_BYTES must be >= {RFC9309_MIN_PARSE_BYTES} (RFC 9309)")
        if config.cache_sites < 1:
            raise ConfigError("ROBOTS_CACHE_SITES must be >= 1")
        if not config.user_agent:
            raise ConfigError("USER_AGENT (or ROBOTSTXT_USER_AGENT) names no product token")
        return config


def product_token(user_agent: str | bytes) -> str:
    """``leadcrawler`` from ``leadcrawler/0.1 (+https://...)``: what User-agent lines name.

    Matching the whole header would let ``User-agent: github`` apply to us because the
    contact URL mentions github.com.
    """
    if isinstance(user_agent, bytes):
        user_agent = user_agent.decode("latin-1")
    match = re.match(r"\s*([A-Za-z0-9_-]+)", user_agent)
    return match.group(1).lower() if match else ""


@dataclass(slots=True)
class RobotsRules:
    """What one site's robots.txt says, and until when that answer holds."""

    verdict: Literal["rules", "allow_all", "disallow_all"]
    parser: Protego | None = None
    crawl_delay: float | None = None  # seconds, already capped
    expires: float = math.inf  # clock time


class RobotsTxtMiddleware:
    """robots.txt per RFC 9309, with ``Crawl-delay``; replaces Scrapy's RobotsTxtMiddleware.

    * 2xx: the rules (Protego), for the user agent's product token; at most
      ``ROBOTS_MAX_BYTES`` are parsed;
    * 4xx (and redirects not followed): no robots.txt, everything allowed (RFC 9309 2.3.1.3);
    * 5xx, 429 or a network error, timeout or refused redirect: everything disallowed
      (2.3.1.4) with ``RobotsTxtUnreachable`` for ``ROBOTS_UNREACHABLE_TTL`` seconds, then
      robots.txt is fetched again;
    * ``Crawl-delay``: the site's download slot delay becomes at least that many seconds
      (capped at ``ROBOTS_CRAWL_DELAY_MAX``), re-applied after AutoThrottle adjusts it, with
      the slot's jitter narrowed so that no gap is shorter.

    A ``DomainCircuitOpen`` while fetching robots.txt is passed on, not remembered. The
    answers of the last ``ROBOTS_CACHE_SITES`` sites used are kept (a crawl of 10,000
    producers' sites must not hold 10,000 parsed robots.txt); a site dropped from the cache
    has its robots.txt fetched again if it is visited again.
    Reads ``ROBOTS_ENABLED``, ``ROBOTS_CRAWL_DELAY_MAX``, ``ROBOTS_UNREACHABLE_TTL``,
    ``ROBOTS_MAX_BYTES``, ``ROBOTS_CACHE_SITES``, ``ROBOTSTXT_OBEY``, ``ROBOTSTXT_USER_AGENT``,
    ``USER_AGENT``.
    """

    DOWNLOAD_PRIORITY = 1000

    def __init__(
        self, config: RobotsConfig, stats: StatsCollector, *, clock: Clock = time.monotonic
    ) -> None:
        self.config = config
        self.stats = stats
        self.crawler: Crawler | None = None
        self._clock = clock
        # site -> its answer, while it holds; least recently used first, at most cache_sites.
        self.rules: OrderedDict[str, RobotsRules] = OrderedDict()
        self._waiting: dict[str, list[Deferred[RobotsRules]]] = {}
        self._robots_bytes: dict[int, int] = {}  # id(robots request) -> bytes received
        self.download_maxsize = 0  # DOWNLOAD_MAXSIZE, restored for decompression

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is False")
        if not settings.getbool("ROBOTS_ENABLED"):
            raise NotConfigured("ROBOTS_ENABLED is False: robots.txt is NOT obeyed")
        assert crawler.stats is not None
        middleware = cls(RobotsConfig.from_settings(settings), crawler.stats)
        middleware.crawler = crawler
        middleware.download_maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(
            middleware._apply_crawl_delay, signal=signals.request_reached_downloader
        )
        # Connected after AutoThrottle (an extension, built first): re-raises what it lowers.
        crawler.signals.connect(middleware._apply_crawl_delay, signal=signals.response_downloaded)
        crawler.signals.connect(middleware._robots_bytes_received, signal=signals.bytes_received)
        return middleware

    def _robots_bytes_received(self, data: bytes, request: Request, spider: object) -> None:
        """Stop a robots.txt download once ``ROBOTS_MAX_BYTES`` arrived: parse what came.

        RFC 9309 2.5: a crawler parses at least the first 500 KiB. A 20 MB robots.txt that
        allows everything would otherwise hit ``DOWNLOAD_MAXSIZE`` and count as unreachable.
        """
        key = id(request)
        if key not in self._robots_bytes:
            return
        # The download already took its size limit; decompression (later) must not get the
        # large one: a compressed robots.txt is bounded by DOWNLOAD_MAXSIZE as usual.
        request.meta["download_maxsize"] = self.download_maxsize
        self._robots_bytes[key] += len(data)
        if self._robots_bytes[key] >= self.config.max_bytes:
            raise StopDownload(fail=False)

    @staticmethod
    def site(request: Request) -> str:
        """robots.txt applies per scheme, host and port (RFC 9309 2.3); credentials stay out."""
        parsed = urlparse_cached(request)
        return f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}"

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        if urlparse_cached(request).scheme not in {"http", "https"}:
            return
        site = self.site(request)
        rules = self.cached_rules(site)
        if rules is None:
            rules = await self._fetch_rules(site)
        self.check(rules, request, site)

    def cached_rules(self, site: str) -> RobotsRules | None:
        rules = self.rules.get(site)
        if rules is None:
            return None
        if rules.expires <= self._clock():
            del self.rules[site]
            return None
        self.rules.move_to_end(site)
        return rules

    def remember(self, site: str, rules: RobotsRules) -> None:
        """Keep ``site``'s answer, forgetting the least recently used beyond the bound."""
        self.rules[site] = rules
        self.rules.move_to_end(site)
        while len(self.rules) > self.config.cache_sites:
            self.rules.popitem(last=False)
            self.stats.inc_value("leadcrawler/robots/cache_evicted")

    def check(self, rules: RobotsRules, request: Request, site: str) -> None:
        """Raise ``IgnoreRequest`` (or ``RobotsTxtUnreachable``) unless ``rules`` allow it."""
        if rules.verdict == "disallow_all":
            self.stats.inc_value("leadcrawler/robots/refused/unreachable")
            raise RobotsTxtUnreachable(site, max(rules.expires - self._clock(), 0.0))
        if rules.parser is None:
            return
        agent = self.config.user_agent
        header = request.headers.get(b"User-Agent")
        if header:
            agent = product_token(header) or agent
        if not rules.parser.can_fetch(request.url, agent):
            self.stats.inc_value("leadcrawler/robots/refused/disallowed")
            logger.debug("Forbidden by robots.txt: %s", request)
            raise IgnoreRequest("Forbidden by robots.txt")

    async def _fetch_rules(self, site: str) -> RobotsRules:
        if site in self._waiting:  # another request is already fetching it
            waiter: Deferred[RobotsRules] = Deferred()
            self._waiting[site].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self._waiting[site] = []
        try:
            rules = await self._download_rules(site)
        except BaseException as exc:
            for waiter in self._waiting.pop(site):
                waiter.errback(Failure(exc))
            raise
        self.remember(site, rules)
        for waiter in self._waiting.pop(site):
            waiter.callback(rules)
        return rules

    async def _download_rules(self, site: str) -> RobotsRules:
        assert self.crawler is not None
        assert self.crawler.engine is not None
        robots_request = Request(
            f"{site}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            # Not refused for its announced size: it is cut at ROBOTS_MAX_BYTES as it arrives.
            meta={"dont_obey_robotstxt": True, "download_maxsize": ROBOTS_ANNOUNCED_MAXSIZE},
            headers={"Accept-Encoding": "identity"},
            callback=NO_CALLBACK,
        )
        self._robots_bytes[id(robots_request)] = 0
        try:
            response = await self.crawler.engine.download_async(robots_request)
        except DomainCircuitOpen:
            raise
        except Exception as exc:  # RFC 9309 2.3.1.4: any failure to fetch is "unreachable"
            self.stats.inc_value(f"leadcrawler/robots/error/{type(exc).__name__}")
            return self.unreachable(site, type(exc).__name__)
        finally:
            self._robots_bytes.pop(id(robots_request), None)
        return self.rules_from_response(site, response)

    def rules_from_response(self, site: str, response: Response) -> RobotsRules:
        status = response.status
        self.stats.inc_value(f"leadcrawler/robots/status/{status}")
        if status == 429 or status >= 500:
            return self.unreachable(site, f"HTTP {status}")
        if not 200 <= status < 300:
            self.stats.inc_value("leadcrawler/robots/outcome/allow_all")
            logger.debug("robots.txt of %s: HTTP %s, everything allowed", site, status)
            return RobotsRules("allow_all")
        body = response.body
        if len(body) > self.config.max_bytes:
            self.stats.inc_value("leadcrawler/robots/truncated")
            body = body[: self.config.max_bytes]
            body = body[: body.rfind(b"\n") + 1] or body
        parser = Protego.parse(body.decode("utf-8-sig", errors="ignore"))
        self.stats.inc_value("leadcrawler/robots/outcome/parsed")
        return RobotsRules("rules", parser, self._crawl_delay(site, parser))

    def unreachable(self, site: str, why: str) -> RobotsRules:
        ttl = self.config.unreachable_ttl
        self.stats.inc_value("leadcrawler/robots/outcome/disallow_all")
        logger.warning(
            "robots.txt of %s unreachable (%s): the site is disallowed for %.0f s (RFC 9309)",
            site,
            why,
            ttl,
        )
        return RobotsRules("disallow_all", expires=self._clock() + ttl)

    def _crawl_delay(self, site: str, parser: Protego) -> float | None:
        wanted = parser.crawl_delay(self.config.user_agent)
        if wanted is None or not math.isfinite(wanted) or wanted <= 0:
            return None
        delay = min(float(wanted), self.config.crawl_delay_max)
        self.stats.inc_value("leadcrawler/robots/crawl_delay/sites")
        if delay < wanted:
            self.stats.inc_value("leadcrawler/robots/crawl_delay/capped")
        logger.info(
            "robots.txt of %s asks for Crawl-delay %.1f s; at least %.1f s between requests",
            site,
            wanted,
            delay,
        )
        return delay or None

    def _apply_crawl_delay(self, request: Request) -> None:
        rules = self.rules.get(self.site(request))
        downloader = _downloader(self.crawler)
        if rules is None or not rules.crawl_delay or downloader is None:
            return
        slot = downloader.slots.get(_slot_key(self.crawler, request))
        if slot is not None:
            enforce_min_delay(slot, rules.crawl_delay)


def enforce_min_delay(slot: Slot, minimum: float) -> None:
    """Make every gap between two requests of ``slot`` at least ``minimum`` seconds.

    Scrapy varies a slot's delay by ±jitter (50 % by default), so the delay alone would let
    half-length gaps through: the jitter is narrowed until the shortest gap is ``minimum``.
    """
    slot.delay = max(slot.delay, minimum)
    jitter = getattr(slot, "jitter", None)
    if jitter is None:  # Scrapy < 2.19: randomize_delay is a fixed ±50 %
        if getattr(slot, "randomize_delay", False):
            slot.delay = max(slot.delay, 2 * minimum)
        return
    if slot.delay * (1 - jitter) < minimum:
        slot.jitter = max(0.0, 1 - minimum / slot.delay)


# -- Retry-After and backoff ---------------------------------------------------------------

RetryAfterKind = Literal["seconds", "date", "missing", "invalid"]
_DELAY_SECONDS = re.compile(r"^[0-9]+$")


def parse_retry_after(
    value: bytes | str | None, now: datetime
) -> tuple[float | None, RetryAfterKind]:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date, RFC 9110 10.2.3).

    Returns ``(seconds, kind)``; seconds is ``None`` when the value is missing or unusable
    (negative, fractional, garbage), ``math.inf`` for absurdly long numbers, and 0 for a
    date in the past.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value is None or not value.strip():
        return None, "missing"
    value = value.strip()
    if _DELAY_SECONDS.match(value):
        return (float(value) if len(value) <= 15 else math.inf), "seconds"
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, "invalid"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0), "date"


@dataclass(frozen=True, slots=True)
class RetryAfterConfig:
    default: float  # seconds, when a 429/503 has no usable Retry-After
    maximum: float  # seconds, the cap on any Retry-After
    backoff_base: float  # seconds, the backoff before the first retry
    backoff_max: float  # seconds, the cap on the backoff
    retry_http_codes: frozenset[int]
    retry_exceptions: tuple[type[BaseException], ...]

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RetryAfterConfig:
        config = cls(
            default=settings.getfloat("RETRY_AFTER_DEFAULT"),
            maximum=settings.getfloat("RETRY_AFTER_MAX"),
            backoff_base=settings.getfloat("RETRY_AFTER_BACKOFF_BASE"),
            backoff_max=settings.getfloat("RETRY_AFTER_BACKOFF_MAX"),
            retry_http_codes=frozenset(int(c) for c in settings.getlist("RETRY_HTTP_CODES")),
            retry_exceptions=_exception_classes(settings),
        )
        if min(config.default, config.maximum, config.backoff_base, config.backoff_max) < 0:
            raise ConfigError("RETRY_AFTER_* durations must be >= 0 seconds")
        if config.default > config.maximum:
            raise ConfigError("RETRY_AFTER_DEFAULT must not exceed RETRY_AFTER_MAX")
        if config.backoff_base > config.backoff_max:
            raise ConfigError("RETRY_AFTER_BACKOFF_BASE must not exceed RETRY_AFTER_BACKOFF_MAX")
        return config


class RetryAfterMiddleware:
    """Pause a domain's download slot after a 429/503 or a failure that Scrapy will retry.

    * 429/503: the ``Retry-After`` delay (seconds or HTTP date); missing, negative or garbage
      means ``RETRY_AFTER_DEFAULT``; anything longer is capped at ``RETRY_AFTER_MAX``;
    * other ``RETRY_HTTP_CODES`` and ``RETRY_EXCEPTIONS``: exponential backoff with jitter,
      ``min(RETRY_AFTER_BACKOFF_MAX, RETRY_AFTER_BACKOFF_BASE * 2**retry_times)``, of which a
      random half is added to the other half (never less than half the step);
    * a 429/503 waits the longer of the two.

    Only that slot waits (its queue is held), other domains keep going; Scrapy's
    RetryMiddleware re-schedules the request into the held slot and bounds the attempts.
    Reads ``RETRY_AFTER_ENABLED``, ``RETRY_AFTER_DEFAULT``, ``RETRY_AFTER_MAX``,
    ``RETRY_AFTER_BACKOFF_BASE``, ``RETRY_AFTER_BACKOFF_MAX``, ``RETRY_HTTP_CODES``,
    ``RETRY_EXCEPTIONS``.
    """

    def __init__(
        self,
        config: RetryAfterConfig,
        stats: StatsCollector,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.stats = stats
        self.crawler: Crawler | None = None
        self._clock = clock
        self._rng = rng or random.Random()
        self.paused_until: dict[str, float] = {}  # slot key -> clock time
        self._holds: dict[str, CallLaterResult] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("RETRY_AFTER_ENABLED"):
            raise NotConfigured("RETRY_AFTER_ENABLED is False")
        assert crawler.stats is not None
        middleware = cls(RetryAfterConfig.from_settings(crawler.settings), crawler.stats)
        middleware.crawler = crawler
        crawler.signals.connect(middleware._keep_paused, signal=signals.request_reached_downloader)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        status = response.status
        if status in (429, 503):
            seconds, kind = parse_retry_after(
                response.headers.get(b"Retry-After"), datetime.now(UTC)
            )
            self.stats.inc_value(f"leadcrawler/retry_after/header/{kind}")
            if seconds is None:
                seconds = self.config.default
            if seconds > self.config.maximum:
                self.stats.inc_value("leadcrawler/retry_after/capped")
                seconds = self.config.maximum
            wait = max(seconds, self.backoff(request))
            self.pause(request, wait, f"HTTP {status}", level=logging.INFO)
        elif status in self.config.retry_http_codes and not request.meta.get("dont_retry"):
            self.stats.inc_value("leadcrawler/retry_after/backoff")
            self.pause(request, self.backoff(request), f"HTTP {status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, self.config.retry_exceptions) and not request.meta.get(
            "dont_retry"
        ):
            self.stats.inc_value("leadcrawler/retry_after/backoff")
            self.pause(request, self.backoff(request), type(exception).__name__)

    def backoff(self, request: Request) -> float:
        """Seconds before the next attempt, growing with ``meta["retry_times"]``."""
        attempt = min(int(request.meta.get("retry_times", 0)), 32)
        step = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        return step / 2 + self._rng.uniform(0, step / 2)

    def pause(self, request: Request, seconds: float, why: str, level: int = logging.DEBUG) -> None:
        """Hold the request's download slot for ``seconds`` (never shortening a longer hold)."""
        if seconds <= 0:
            return
        key = _slot_key(self.crawler, request)
        until = self._clock() + seconds
        if until <= self.paused_until.get(key, 0.0):
            return
        self.paused_until[key] = until
        self.stats.inc_value("leadcrawler/retry_after/paused")
        self.stats.max_value("leadcrawler/retry_after/pause_max_seconds", round(seconds, 3))
        logger.log(level, "Pausing requests to %s for %.2f s (%s)", key, seconds, why)
        self._hold(key)

    def _keep_paused(self, request: Request) -> None:
        """A request entered a slot: hold the slot again if it was recreated during a pause."""
        key = _slot_key(self.crawler, request)
        until = self.paused_until.get(key)
        if until is None:
            return
        if until <= self._clock():
            del self.paused_until[key]
            return
        downloader = _downloader(self.crawler)
        slot = downloader.slots.get(key) if downloader is not None else None
        if slot is not None and (
            slot.latercall is None or slot.latercall is not self._holds.get(key)
        ):
            self._hold(key)

    def _hold(self, key: str) -> None:
        downloader = _downloader(self.crawler)
        slot = downloader.slots.get(key) if downloader is not None else None
        if downloader is None or slot is None:
            return  # held when a request reaches the slot (_keep_paused)
        remaining = self.paused_until[key] - self._clock()
        # Scrapy's downloader does not send from a slot while slot.latercall is pending; it
        # uses that for DOWNLOAD_DELAY, and _latercall() resumes the queue. Same here, longer.
        if slot.latercall is not None:
            slot.latercall.cancel()
        self._holds[key] = slot.latercall = call_later(
            remaining, self._release, downloader, key, slot
        )

    def _release(self, downloader: Downloader, key: str, slot: Slot) -> None:
        self._holds.pop(key, None)
        if self.paused_until.get(key, math.inf) <= self._clock():
            self.paused_until.pop(key, None)
        downloader._latercall(slot)


# -- circuit breaker -----------------------------------------------------------------------


class DomainCircuitOpen(DeferredRequest):
    """The domain failed too often and is resting; the request was not sent. Keep it pending:
    after ``retry_in`` seconds one probe request is let through."""

    def __init__(self, domain: str, retry_in: float) -> None:
        super().__init__(domain, retry_in)
        self.domain = domain
        self.retry_in = retry_in

    def __str__(self) -> str:
        return f"circuit open for {self.domain}; retry in {self.retry_in:.1f} s"


@dataclass(slots=True)
class _Circuit:
    state: Literal["closed", "open", "half_open"] = "closed"
    failures: int = 0  # consecutive
    opened_at: float = 0.0
    probe_sent_at: float = 0.0


class CircuitBreakerMiddleware:
    """Stop sending to a domain (host) after ``CIRCUIT_BREAKER_FAILURES`` consecutive failures.

    A failure is a 5xx response or a network error (``RETRY_EXCEPTIONS``); any other response
    but 429 is a success and resets the count. An open domain's requests are refused with
    ``DomainCircuitOpen`` (an ``IgnoreRequest``) without being sent; after
    ``CIRCUIT_BREAKER_COOLDOWN`` seconds one probe is let through: success closes the circuit,
    failure opens it for another cool-down (as does a probe with no outcome within one).
    Other domains are not affected. Reads ``CIRCUIT_BREAKER_ENABLED``,
    ``CIRCUIT_BREAKER_FAILURES``, ``CIRCUIT_BREAKER_COOLDOWN``, ``RETRY_EXCEPTIONS``.
    """

    def __init__(
        self,
        stats: StatsCollector,
        *,
        failures: int,
        cooldown: float,
        failure_exceptions: tuple[type[BaseException], ...],
        clock: Clock = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ConfigError("CIRCUIT_BREAKER_FAILURES must be >= 1")
        if cooldown <= 0:
            raise ConfigError("CIRCUIT_BREAKER_COOLDOWN must be > 0 seconds")
        self.stats = stats
        self.threshold = failures
        self.cooldown = cooldown
        self.failure_exceptions = failure_exceptions
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("CIRCUIT_BREAKER_ENABLED"):
            raise NotConfigured("CIRCUIT_BREAKER_ENABLED is False")
        assert crawler.stats is not None
        return cls(
            crawler.stats,
            failures=settings.getint("CIRCUIT_BREAKER_FAILURES"),
            cooldown=settings.getfloat("CIRCUIT_BREAKER_COOLDOWN"),
            failure_exceptions=_exception_classes(settings),
        )

    @staticmethod
    def domain(request: Request) -> str:
        return urlparse_cached(request).hostname or ""

    def state(self, domain: str) -> str:
        circuit = self._circuits.get(domain)
        return circuit.state if circuit is not None else "closed"

    def process_request(self, request: Request) -> None:
        domain = self.domain(request)
        circuit = self._circuits.get(domain)
        if circuit is None or circuit.state == "closed":
            return
        now = self._clock()
        if circuit.state == "open":
            wait = circuit.opened_at + self.cooldown - now
        else:  # half open: a probe is out; a lost probe (no outcome seen) gives way to another
            wait = circuit.probe_sent_at + self.cooldown - now
        if wait > 0:
            self.stats.inc_value("leadcrawler/circuit_breaker/rejected")
            raise DomainCircuitOpen(domain, wait)
        circuit.state = "half_open"
        circuit.probe_sent_at = now
        self.stats.inc_value("leadcrawler/circuit_breaker/probe")
        logger.info("Circuit for %s half open: probing with %s", domain, request)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= 500:
            self._failure(self.domain(request), f"HTTP {response.status}")
        elif response.status != 429:  # rate limiting is Retry-After's business
            self._success(self.domain(request))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, self.failure_exceptions) and not isinstance(
            exception, IgnoreRequest
        ):
            self._failure(self.domain(request), type(exception).__name__)

    def _failure(self, domain: str, why: str) -> None:
        circuit = self._circuits.setdefault(domain, _Circuit())
        now = self._clock()
        if circuit.state == "half_open":
            circuit.state, circuit.opened_at = "open", now
            self.stats.inc_value("leadcrawler/circuit_breaker/reopened")
            logger.warning(
                "Circuit for %s open again: probe failed (%s); next probe in %.0f s",
                domain,
                why,
                self.cooldown,
            )
            return
        if circuit.state == "open":
            return  # a request sent before it opened
        circuit.failures += 1
        if circuit.failures >= self.threshold:
            circuit.state, circuit.opened_at = "open", now
            self.stats.inc_value("leadcrawler/circuit_breaker/opened")
            logger.warning(
                "Circuit for %s open after %d consecutive failures (last: %s); "
                "its requests wait %.0f s for a probe",
                domain,
                circuit.failures,
                why,
                self.cooldown,
            )

    def _success(self, domain: str) -> None:
        circuit = self._circuits.get(domain)
        if circuit is None:
            return
        if circuit.state != "closed":
            self.stats.inc_value("leadcrawler/circuit_breaker/closed")
            logger.info("Circuit for %s closed: it answers again", domain)
        del self._circuits[domain]


# -- redirects get their own host's download slot -------------------------------------------


class RedirectSlotMiddleware:
    """A redirected request is downloaded in its new host's slot, not the redirecting one's.

    Scrapy records the slot a request went through in ``meta["download_slot"]`` and a
    redirect copies the meta, so the page a short link leads to would be throttled, paused
    (a 503/429 there) and counted in the short link's host's slot. The slot Scrapy assigned
    (the previous hop's host) is dropped; a slot the spider chose itself is kept.

    Setting: ``REDIRECT_SLOT_ENABLED``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("REDIRECT_SLOT_ENABLED"):
            raise NotConfigured("REDIRECT_SLOT_ENABLED is off")
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        redirects = request.meta.get("redirect_urls")
        slot = request.meta.get("download_slot")
        if not redirects or slot is None:
            return
        previous_host = urlsplit(redirects[-1]).hostname or ""
        if slot == previous_host and urlparse_cached(request).hostname != previous_host:
            del request.meta["download_slot"]
