"""MX checks for e-mail domains: asynchronous DNS with dnspython, cached per domain by TTL.

:class:`MxChecker` asks the configured name servers (``ENRICH_DNS_NAMESERVERS``; when
that is empty, the machine's resolvers from ``/etc/resolv.conf``) for a domain's MX
records and says, as an :class:`MxResult`, whether the domain can receive mail:

- ``valid-mx``: at least one MX host.
- ``null-mx``: the domain says it accepts no mail (RFC 7505: a single MX of preference 0
  whose exchange is the root, ``.``).
- ``no-mx``: no MX records. With an A or AAAA record, ``a_fallback`` is True: senders
  deliver to the domain's own address (RFC 5321 §5.1, the "implicit MX"); without one
  the domain cannot receive mail.
- ``nxdomain``: the domain does not exist.
- ``dns-timeout``: no answer in time. Says nothing about the address: retry later.
- ``dns-error``: SERVFAIL, REFUSED, a malformed answer or an unusable domain name; also
  retryable, also no verdict.

``disposable`` is set whatever the status when the domain (or a parent of it) is in
``leadcrawler/domain/data/disposable_domains.txt``.

Each domain is asked once while its answer is fresh: answers are cached for their TTL
(bounded by ``max_ttl``), negative answers (NXDOMAIN, no MX) for the SOA's negative TTL
(RFC 2308) bounded by ``negative_ttl``, and failures for ``failure_ttl``; concurrent
checks of one domain share one lookup. Nothing here blocks: lookups are coroutines on
the running asyncio loop (Scrapy's asyncio reactor).

Settings, read by the stage that owns the checker through :meth:`DnsConfig.from_settings`:
``ENRICH_DNS_NAMESERVERS`` (``"host:port"`` strings, IPv6 as ``"[::1]:53"``; empty turns
MX checks off), ``ENRICH_DNS_TIMEOUT``, ``ENRICH_DNS_MAX_TTL``, ``ENRICH_DNS_NEGATIVE_TTL``,
``ENRICH_DNS_FAILURE_TTL``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Self

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.SOA import SOA

from leadcrawler.domain.urls import canonical_host
from leadcrawler.enricher.config import ConfigError, Settings

logger = logging.getLogger(__name__)

DEFAULT_PORT = 53
# Defaults of the ENRICH_DNS_* settings, in seconds.
DEFAULT_TIMEOUT = 5.0  # one lookup, every server and retry included
DEFAULT_MAX_TTL = 86_400.0  # longer TTLs are cut to this
DEFAULT_NEGATIVE_TTL = 3_600.0  # cap (and default) for NXDOMAIN and no-MX answers
DEFAULT_FAILURE_TTL = 60.0  # how long a timeout or error is remembered before asking again


class MxStatus(StrEnum):
    VALID_MX = "valid-mx"
    NO_MX = "no-mx"
    NULL_MX = "null-mx"
    NXDOMAIN = "nxdomain"
    DNS_TIMEOUT = "dns-timeout"
    DNS_ERROR = "dns-error"


@dataclass(frozen=True, slots=True)
class MxResult:
    """What DNS says about one mail domain."""

    domain: str  # the name asked, lower-case ASCII (IDNA)
    status: MxStatus
    exchanges: tuple[str, ...] = ()  # MX hosts, most preferred first, no trailing dot
    a_fallback: bool = False  # no MX, but an A/AAAA record takes mail (RFC 5321 §5.1)
    disposable: bool = False  # a throw-away mailbox service
    ttl: float = 0.0  # seconds this answer stays fresh in the cache
    error: str | None = None  # for dns-error: a short reason ("servfail", "invalid_domain")

    @property
    def accepts_mail(self) -> bool:
        """Whether mail to the domain has somewhere to go (a verdict only when not retryable)."""
        return self.status == MxStatus.VALID_MX or (
            self.status == MxStatus.NO_MX and self.a_fallback
        )

    @property
    def retryable(self) -> bool:
        """A failure to get an answer, not a fact about the domain."""
        return self.status in (MxStatus.DNS_TIMEOUT, MxStatus.DNS_ERROR)


@cache
def disposable_domains() -> frozenset[str]:
    text = (
        resources.files("leadcrawler.domain.data")
        .joinpath("disposable_domains.txt")
        .read_text("utf-8")
    )
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_disposable(domain: str) -> bool:
    """Whether ``domain`` or one of its parents is a disposable-mailbox service."""
    labels = domain.strip().rstrip(".").lower().split(".")
    listed = disposable_domains()
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))


def system_nameservers() -> list[str]:
    """The machine's resolvers (``/etc/resolv.conf``) as ``host:port``; [] if unreadable."""
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except (dns.resolver.NoResolverConfiguration, OSError):
        return []
    return [f"[{ns}]:53" if ":" in str(ns) else f"{ns}:53" for ns in resolver.nameservers]


def parse_nameserver(spec: str) -> dns.nameserver.Do53Nameserver:
    """``"127.0.0.1:5353"``, ``"9.9.9.9"`` (port 53), ``"[::1]:53"`` or ``"::1"``.

    Only IP addresses: resolving a name server's own name would need another resolver.
    Raises ValueError for anything else.
    """
    text = spec.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"bad name server {spec!r}: expected [address]:port")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"bad name server {spec!r}: not an IP address") from None
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad name server {spec!r}: bad port")
        port = int(port_text)
    return dns.nameserver.Do53Nameserver(str(address), port)


@dataclass(frozen=True, slots=True)
class DnsConfig:
    """The ``ENRICH_DNS_*`` settings, checked."""

    nameservers: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT
    max_ttl: float = DEFAULT_MAX_TTL
    negative_ttl: float = DEFAULT_NEGATIVE_TTL
    failure_ttl: float = DEFAULT_FAILURE_TTL

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Raises ConfigError when there is no name server or a value makes no sense."""
        servers = tuple(str(s) for s in settings.getlist("ENRICH_DNS_NAMESERVERS"))
        if not servers:
            # Empty means "the machine's resolvers", as any mail client would use.
            servers = tuple(system_nameservers())
        if not servers:
            raise ConfigError(
                "no name server: ENRICH_DNS_NAMESERVERS is empty and so is resolv.conf"
            )
        config = cls(
            nameservers=servers,
            timeout=settings.getfloat("ENRICH_DNS_TIMEOUT", DEFAULT_TIMEOUT),
            max_ttl=settings.getfloat("ENRICH_DNS_MAX_TTL", DEFAULT_MAX_TTL),
            negative_ttl=settings.getfloat("ENRICH_DNS_NEGATIVE_TTL", DEFAULT_NEGATIVE_TTL),
            failure_ttl=settings.getfloat("ENRICH_DNS_FAILURE_TTL", DEFAULT_FAILURE_TTL),
        )
        try:
            config.check()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        return config

    def check(self) -> None:
        for spec in self.nameservers:
            parse_nameserver(spec)
        if self.timeout <= 0:
            raise ValueError("ENRICH_DNS_TIMEOUT must be positive")
        if min(self.max_ttl, self.negative_ttl, self.failure_ttl) < 0:
            raise ValueError("ENRICH_DNS_*_TTL values cannot be negative")

    def checker(self) -> MxChecker:
        return MxChecker(
            self.nameservers,
            timeout=self.timeout,
            max_ttl=self.max_ttl,
            negative_ttl=self.negative_ttl,
            failure_ttl=self.failure_ttl,
        )


def _negative_ttl(response: Any, cap: float) -> float:
    """RFC 2308: a negative answer lives min(SOA TTL, SOA MINIMUM), here at most ``cap``."""
    for rrset in getattr(response, "authority", None) or ():
        for rdata in rrset:
            if isinstance(rdata, SOA):
                return float(min(rrset.ttl, rdata.minimum, cap))
    return cap


class MxChecker:
    """Asynchronous, cached MX lookups against fixed name servers.

    ``nameservers`` are ``"host:port"`` strings (:func:`parse_nameserver`). ``timeout``
    bounds one lookup in seconds (every server and retry included). ``clock`` is for
    tests. ``queries`` counts the DNS questions actually sent. The cache keeps at most
    ``max_entries`` domains (oldest answer out first), so memory stays flat.
    """

    def __init__(
        self,
        nameservers: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_ttl: float = DEFAULT_MAX_TTL,
        negative_ttl: float = DEFAULT_NEGATIVE_TTL,
        failure_ttl: float = DEFAULT_FAILURE_TTL,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 50_000,
    ) -> None:
        servers = [parse_nameserver(spec) for spec in nameservers]
        if not servers:
            raise ValueError("at least one name server is needed")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = servers
        resolver.lifetime = timeout
        # Each server gets its share of the time, so a dead first server leaves time
        # for the next one.
        resolver.timeout = timeout / len(servers)
        resolver.cache = None  # this class caches, with its own TTL bounds
        self.resolver = resolver
        self.max_ttl = max_ttl
        self.negative_ttl = negative_ttl
        self.failure_ttl = failure_ttl
        self.clock = clock
        self.queries = 0
        self._cache: dict[str, tuple[MxResult, float]] = {}
        self.max_entries = max_entries
        self._pending: dict[str, asyncio.Future[MxResult]] = {}

    async def check(self, domain_or_address: str) -> MxResult:
        """The MX verdict for a domain, or for the domain of an e-mail address."""
        domain = self._domain(domain_or_address)
        if domain is None:
            name = domain_or_address.rsplit("@", 1)[-1].strip().lower()
            return MxResult(name, MxStatus.DNS_ERROR, error="invalid_domain")
        cached = self.cached(domain)
        if cached is not None:
            return cached
        pending = self._pending.get(domain)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup_and_store(domain))
            self._pending[domain] = pending
            pending.add_done_callback(lambda _f: self._pending.pop(domain, None))
        # Shielded: a cancelled caller does not cancel the lookup others wait for.
        return await asyncio.shield(pending)

    async def prefetch(self, domains: Iterable[str], concurrency: int = 64) -> None:
        """Look up every domain not cached yet, ``concurrency`` at a time (a batch's)."""
        todo = []
        for value in dict.fromkeys(domains):
            domain = self._domain(value)
            if domain is not None and self.cached(domain) is None:
                todo.append(domain)
        gate = asyncio.Semaphore(concurrency)

        async def one(domain: str) -> None:
            async with gate:
                await self.check(domain)

        await asyncio.gather(*(one(domain) for domain in todo))

    def cached(self, domain: str) -> MxResult | None:
        """The fresh cached answer for ``domain`` (already normalised), if any."""
        entry = self._cache.get(domain)
        if entry is None:
            return None
        result, expires = entry
        if self.clock() >= expires:
            del self._cache[domain]
            return None
        return result

    def clear(self) -> None:
        self._cache.clear()

    @staticmethod
    def _domain(value: str) -> str | None:
        host = canonical_host(value.rsplit("@", 1)[-1])
        if host is None or "." not in host:
            return None
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host
        return None  # an IP literal is not a mail domain

    async def _lookup_and_store(self, domain: str) -> MxResult:
        result = await self._lookup(domain)
        if result.ttl > 0:
            self._cache[domain] = (result, self.clock() + result.ttl)
            if len(self._cache) > self.max_entries:  # bounded: oldest answer out first
                del self._cache[next(iter(self._cache))]
        logger.debug("MX %s: %s", domain, result.status)
        return result

    async def _resolve(self, domain: str, rdtype: str) -> dns.resolver.Answer:
        self.queries += 1
        return await self.resolver.resolve(
            dns.name.from_text(domain), rdtype, raise_on_no_answer=False, search=False
        )

    def _failure(self, domain: str, exc: dns.exception.DNSException) -> MxResult:
        disposable = is_disposable(domain)
        if isinstance(exc, dns.exception.Timeout):
            return MxResult(
                domain, MxStatus.DNS_TIMEOUT, disposable=disposable, ttl=self.failure_ttl
            )
        if isinstance(exc, dns.resolver.NoNameservers):
            errors = exc.kwargs.get("errors") or []
            # Each error is (server, tcp, port, exception or rcode text, answer).
            reason = str(errors[-1][3]).lower().split(" ", 1)[0] if errors else "no_nameservers"
        else:
            reason = type(exc).__name__.lower()
        return MxResult(
            domain, MxStatus.DNS_ERROR, disposable=disposable, ttl=self.failure_ttl, error=reason
        )

    async def _lookup(self, domain: str) -> MxResult:
        disposable = is_disposable(domain)
        try:
            answer = await self._resolve(domain, "MX")
        except dns.resolver.NXDOMAIN as exc:
            responses = list(exc.responses().values())
            ttl = _negative_ttl(responses[0], self.negative_ttl) if responses else self.negative_ttl
            return MxResult(domain, MxStatus.NXDOMAIN, disposable=disposable, ttl=ttl)
        except dns.exception.DNSException as exc:
            return self._failure(domain, exc)
        if answer.rrset is not None:
            records = sorted(answer.rrset, key=lambda mx: mx.preference)
            ttl = min(float(answer.rrset.ttl), self.max_ttl)
            exchanges = tuple(
                mx.exchange.to_text(omit_final_dot=True)
                for mx in records
                if mx.exchange != dns.name.root
            )
            if not exchanges:  # only "0 ." (RFC 7505), or a broken variant of it
                return MxResult(domain, MxStatus.NULL_MX, disposable=disposable, ttl=ttl)
            return MxResult(domain, MxStatus.VALID_MX, exchanges, disposable=disposable, ttl=ttl)
        ttl = _negative_ttl(answer.response, self.negative_ttl)
        for rdtype in ("A", "AAAA"):
            try:
                address = await self._resolve(domain, rdtype)
            except dns.resolver.NXDOMAIN:
                break
            except dns.exception.DNSException as exc:
                return self._failure(domain, exc)
            if address.rrset is not None:
                ttl = min(ttl, float(address.rrset.ttl), self.max_ttl)
                return MxResult(
                    domain, MxStatus.NO_MX, a_fallback=True, disposable=disposable, ttl=ttl
                )
        return MxResult(domain, MxStatus.NO_MX, disposable=disposable, ttl=ttl)


async def check_all(checker: MxChecker, domains: Iterable[str]) -> dict[str, MxResult]:
    """Check several domains (or addresses) at once; keys are the values given."""
    values = list(dict.fromkeys(domains))
    results = await asyncio.gather(*(checker.check(value) for value in values))
    return dict(zip(values, results, strict=True))
