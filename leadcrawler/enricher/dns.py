"""MX checks for e-mail domains: asynchronous DNS, cached per domain by TTL.

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

The questions go out on one shared UDP socket per checker (renewed every few hundred
questions) and plain answers are read by a small strict parser; anything unusual (CNAME
chains, truncation, EDNS, odd names, malformed datagrams) is read by dnspython, and the
resolution loop mirrors dnspython's resolver, so the verdicts are dnspython's: ~0.06 ms of
client CPU a question instead of ~0.4 ms (see "the wire" below).

Settings, read by the stage that owns the checker through :meth:`DnsConfig.from_settings`:
``ENRICH_DNS_NAMESERVERS`` (``"host:port"`` strings, IPv6 as ``"[::1]:53"``; empty turns
MX checks off), ``ENRICH_DNS_TIMEOUT``, ``ENRICH_DNS_MAX_TTL``, ``ENRICH_DNS_NEGATIVE_TTL``,
``ENRICH_DNS_FAILURE_TTL``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import re
import secrets
import socket
import struct
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Self

import dns.asyncquery
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdataclass
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


# --- the wire: queries built by hand, answers read by a strict fast reader --------------
#
# dnspython's Resolver costs ~0.45 ms of CPU a question (a socket per question, Message
# objects, Name objects, enum conversions). A batch of new domains asks thousands, so the
# questions are sent here on one shared UDP socket per address family and the answers read
# by a small parser that accepts only plain answers (IN class; MX/A/AAAA in the answer
# for the name asked; SOA/NS in the authority; A/AAAA in the additional section; names of
# letters, digits, "-" and "_"; compression pointers pointing backwards). Anything else
# goes to dnspython (``dns.message.from_wire``, ``Message.is_response``, ``Answer``), so
# the verdict is dnspython's own. The resolution loop (servers in order, a server dropped
# after a bad answer, rounds with back-off, TCP after a truncated answer, the lifetime)
# mirrors dnspython's ``_Resolution``. Answers are accepted only from the server asked,
# with the id and the question of the query.

_QR = 0x8000
_OPCODE = 0x7800
_TC = 0x0200
_NOERROR = 0
_NXDOMAIN = 3
_YXDOMAIN = 6
_TYPE_A, _TYPE_NS, _TYPE_SOA, _TYPE_MX, _TYPE_AAAA = 1, 2, 6, 15, 28
_CLASS_IN = 1
_RDTYPES = {"MX": _TYPE_MX, "A": _TYPE_A, "AAAA": _TYPE_AAAA}
_SAFE_NAME = re.compile(rb"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_SAFE_DOMAIN = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})+")
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
# A new socket (a new random source port) after this many questions, so that a forged
# answer must still guess the port as well as the id (dnspython took a new port for every
# question); a socket costs ~20 us, ~0.1 us a question here.
_SOCKET_QUERIES = 256


class _Ignored:
    """A datagram that is no answer to the question (dnspython ignores it too)."""


class _Truncated:
    """An answer with the TC bit: ask again over TCP."""


_IGNORED = _Ignored()
_TRUNCATED = _Truncated()


@dataclass(frozen=True, slots=True)
class _Reply:
    """What a response says, as far as :meth:`MxChecker._lookup` needs it."""

    rcode: int
    answered: bool = False  # an RRset of the type asked (CNAMEs followed)
    ttl: int = 0  # that RRset's TTL
    mx: tuple[tuple[int, str | None], ...] = ()  # (preference, exchange; None for ".")
    soa: tuple[int, int] | None = None  # (TTL, MINIMUM) of the authority's first SOA


@dataclass(frozen=True, slots=True)
class _Rejected:
    """A response dnspython's Answer refuses (the server is dropped, like dnspython does)."""

    error: Exception


def _read_name(wire: bytes, pos: int, end: int) -> tuple[bytes, int] | None:
    """A name at ``pos`` as dotted bytes and the offset after it; None when it is not plain.

    Stricter than dnspython: a pointer must point before the part that holds it, and the
    part it points to must end before that part (dnspython's rules), labels are letters,
    digits, "-" and "_", at most 255 bytes in all.
    """
    labels: list[bytes] = []
    after = -1
    start = pos
    size = 1
    hops = 0
    while True:
        if pos >= end:
            return None
        count = wire[pos]
        if count == 0:
            pos += 1
            break
        if count < 64:
            pos += 1 + count
            if pos > end:
                return None
            labels.append(wire[pos - count : pos])
            size += count + 1
            if size > 255:
                return None
        elif count >= 192:
            if pos + 1 >= end:
                return None
            target = ((count & 0x3F) << 8) | wire[pos + 1]
            if after < 0:
                after = pos + 2
            if target >= start:
                return None
            hops += 1
            if hops > 16:
                return None
            end = start
            start = pos = target
        else:
            return None
    if after < 0:
        after = pos
    if not labels:
        return b"", after
    text = b".".join(labels)
    if len(labels) - 1 != text.count(b".") or _SAFE_NAME.fullmatch(text) is None:
        return None
    return text, after


def _fast_reply(wire: bytes, qid: int, question: bytes, qname: bytes, rdtype: int) -> _Reply | None:
    """The reply in a plain answer to (``qname``, ``rdtype``); None: ask dnspython.

    ``question`` is the question section as sent, lower-case; ``qname`` the dotted name.
    """
    size = len(wire)
    if size < 12:
        return None
    rid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if rid != qid or not flags & _QR or flags & (_OPCODE | _TC) or qdcount != 1:
        return None
    pos = 12 + len(question)
    if wire[12:pos].lower() != question:
        return None
    rcode = flags & 0xF
    ttl = -1
    mx: list[tuple[int, str | None]] = []
    seen: set[tuple[int, bytes]] = set()
    soa_owner: bytes | None = None
    soa_ttl = 0
    soa_minimum = 0
    sections = (ancount, nscount, arcount)
    for section in range(3):
        for _ in range(sections[section]):
            owner = _read_name(wire, pos, size)
            if owner is None:
                return None
            name, pos = owner
            if pos + 10 > size:
                return None
            rtype, rclass, rttl, rdlen = _RR.unpack_from(wire, pos)
            pos += 10
            rdend = pos + rdlen
            if rclass != _CLASS_IN or rdend > size:
                return None
            if rttl > 0x7FFFFFFF:
                rttl = 0
            if section == 0:
                if rtype != rdtype or name.lower() != qname:
                    return None
                if rtype == _TYPE_MX:
                    if rdlen < 3:
                        return None
                    exchange = _read_name(wire, pos + 2, rdend)
                    if exchange is None or exchange[1] != rdend:
                        return None
                    preference = _U16.unpack_from(wire, pos)[0]
                    key = (preference, exchange[0].lower())
                    if key not in seen:
                        seen.add(key)
                        mx.append((preference, exchange[0].decode("ascii") or None))
                elif rdlen != (4 if rtype == _TYPE_A else 16):
                    return None
                ttl = rttl if ttl < 0 else min(ttl, rttl)
            elif section == 1 and rtype == _TYPE_SOA:
                mname = _read_name(wire, pos, rdend)
                rname = mname and _read_name(wire, mname[1], rdend)
                if rname is None or rname[1] + 20 != rdend:
                    return None
                lowered = name.lower()
                if soa_owner is None:
                    soa_owner, soa_ttl = lowered, rttl
                    soa_minimum = _U32.unpack_from(wire, rdend - 4)[0]
                elif lowered == soa_owner:
                    soa_ttl = min(soa_ttl, rttl)
            elif section == 1 and rtype == _TYPE_NS:
                target = _read_name(wire, pos, rdend)
                if target is None or target[1] != rdend:
                    return None
            elif section == 2 and rtype in (_TYPE_A, _TYPE_AAAA):
                if rdlen != (4 if rtype == _TYPE_A else 16):
                    return None
            else:
                return None
            pos = rdend
    if pos != size or (rcode == _NXDOMAIN and ancount):
        return None
    if rcode not in (_NOERROR, _NXDOMAIN):
        return _Reply(rcode)  # an error: only the rcode counts
    soa = None if soa_owner is None else (soa_ttl, soa_minimum)
    if ttl < 0:
        return _Reply(rcode, soa=soa)
    return _Reply(rcode, True, ttl, tuple(mx), soa)


def _soa_of(response: dns.message.Message) -> tuple[int, int] | None:
    for rrset in response.authority:
        for rdata in rrset:
            if isinstance(rdata, SOA):
                return (rrset.ttl, rdata.minimum)
    return None


def _reply_of(
    response: dns.message.Message, qname: dns.name.Name, rdtype: int
) -> _Reply | _Rejected:
    """A response dnspython has read, judged as dnspython's ``_Resolution`` does."""
    assert isinstance(response, dns.message.QueryMessage)  # is_response: opcode QUERY
    rcode = response.rcode()
    if rcode == _NOERROR:
        try:
            answer = dns.resolver.Answer(
                qname, dns.rdatatype.RdataType(rdtype), dns.rdataclass.IN, response
            )
        except Exception as exc:
            return _Rejected(exc)
        rrset = answer.rrset
        if rrset is None:
            return _Reply(rcode, soa=_soa_of(response))
        mx = tuple(
            (
                rdata.preference,
                None
                if rdata.exchange == dns.name.root
                else rdata.exchange.to_text(omit_final_dot=True),
            )
            for rdata in rrset
            if rdtype == _TYPE_MX
        )
        return _Reply(rcode, True, rrset.ttl, mx, _soa_of(response))
    if rcode == _NXDOMAIN:
        try:
            dns.resolver.Answer(qname, dns.rdatatype.ANY, dns.rdataclass.IN, response)
        except Exception as exc:
            return _Rejected(exc)
        return _Reply(rcode, soa=_soa_of(response))
    return _Reply(rcode)  # an error: only the rcode counts


def _slow_reply(
    wire: bytes, request: dns.message.Message, rdtype: int
) -> _Reply | _Rejected | _Ignored | _Truncated:
    """dnspython's reading of a datagram (``dns.asyncquery.receive_udp``, ignore_errors)."""
    try:
        response = dns.message.from_wire(
            wire,
            keyring=request.keyring,
            request_mac=request.mac,
            raise_on_truncation=True,
        )
    except dns.message.Truncated as exc:
        return _TRUNCATED if request.is_response(exc.message()) else _IGNORED
    except Exception:
        return _IGNORED
    if not request.is_response(response):
        return _IGNORED
    return _reply_of(response, request.question[0].name, rdtype)


def _query_wire(qid: int, domain: str, rdtype: int) -> tuple[bytes, bytes] | None:
    """(datagram, lower-case question section) as ``dns.message.make_query`` sends them."""
    if len(domain) > 253 or _SAFE_DOMAIN.fullmatch(domain) is None:
        return None
    name = b"".join(
        len(label).to_bytes(1, "big") + label for label in domain.encode("ascii").split(b".")
    )
    question = name + b"\x00" + struct.pack("!HH", rdtype, _CLASS_IN)
    return _HEADER.pack(qid, 0x0100, 1, 0, 0, 0) + question, question


@dataclass(frozen=True, slots=True, eq=False)  # one per configured entry, as dnspython's
class _Server:
    address: str
    port: int
    family: int


class _Waiter:
    __slots__ = ("domain", "future", "qid", "qname", "question", "rdtype")

    def __init__(
        self,
        future: asyncio.Future[_Reply | _Rejected | _Truncated],
        question: bytes,
        qname: bytes,
        rdtype: int,
        domain: str,
        qid: int,
    ) -> None:
        self.future = future
        self.question = question
        self.qname = qname
        self.rdtype = rdtype
        self.domain = domain
        self.qid = qid


class _UdpSocket:
    """One non-blocking UDP socket shared by many questions, read by the event loop."""

    def __init__(
        self, family: int, loop: asyncio.AbstractEventLoop, registry: set[_UdpSocket]
    ) -> None:
        self.registry = registry  # the checker's open sockets (closed when it is garbage)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.loop = loop
        self.pending: dict[tuple[str, int, int], _Waiter] = {}
        self.sent = 0
        self.retired = False
        self.pid = os.getpid()  # a forked child asks on a socket of its own
        loop.add_reader(self.sock.fileno(), self._readable)
        registry.add(self)

    def close(self) -> None:
        self.registry.discard(self)
        if self.sock.fileno() >= 0:
            # In a forked child the loop's selector is the parent's: leave it alone.
            if not self.loop.is_closed() and self.pid == os.getpid():
                self.loop.remove_reader(self.sock.fileno())
            self.sock.close()

    def done(self, key: tuple[str, int, int], waiter: _Waiter) -> None:
        # Only its own entry: once the answer is in, the id may already serve another question.
        if self.pending.get(key) is waiter:
            del self.pending[key]
        if self.retired and not self.pending:
            self.close()

    def _readable(self) -> None:
        recvfrom = self.sock.recvfrom
        pending = self.pending
        while True:
            try:
                wire, source = recvfrom(65_535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error reported late: the asked question times out
            if len(wire) < 12:
                continue
            key = (source[0], source[1], (wire[0] << 8) | wire[1])
            waiter = pending.get(key)
            if waiter is None or waiter.future.done():
                continue  # not from a server asked, or an id not in flight
            outcome = _read_reply(wire, waiter)
            if outcome is _IGNORED:
                continue
            del pending[key]
            waiter.future.set_result(outcome)  # type: ignore[arg-type]
            if self.retired and not pending:
                self.close()
                return


def _read_reply(wire: bytes, waiter: _Waiter) -> _Reply | _Rejected | _Ignored | _Truncated:
    try:
        reply = _fast_reply(wire, waiter.qid, waiter.question, waiter.qname, waiter.rdtype)
    except (IndexError, struct.error, UnicodeDecodeError):
        reply = None
    if reply is not None:
        return reply
    request = dns.message.make_query(waiter.domain, dns.rdatatype.RdataType(waiter.rdtype))
    request.id = waiter.qid
    return _slow_reply(wire, request, waiter.rdtype)


class _AllFailed(dns.exception.DNSException):
    """Every server gave up (dnspython's NoNameservers); ``errors`` as dnspython lists them."""

    def __init__(self, errors: list[object]) -> None:
        super().__init__()
        self.errors = errors


def _random_id() -> int:
    return secrets.randbits(16)


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(dns.exception.Timeout())


def _pass_on(done: asyncio.Future[MxResult], future: asyncio.Future[MxResult]) -> None:
    """Give ``future`` the outcome of ``done``."""
    if future.done():
        return
    if done.cancelled():
        future.cancel()
    elif done.exception() is not None:
        future.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        future.set_result(done.result())


def _close_all(sockets: set[_UdpSocket]) -> None:
    for sock in list(sockets):
        sock.close()
    sockets.clear()


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
        self._servers = [  # in the configured order, as dnspython asks them (no rotation)
            _Server(
                server.address,
                server.port,
                socket.AF_INET6 if ":" in server.address else socket.AF_INET,
            )
            for server in servers
        ]
        self.lifetime = timeout
        # Each server gets its share of the time, so a dead first server leaves time
        # for the next one.
        self.server_timeout = timeout / len(servers)
        self._sockets: dict[int, _UdpSocket] = {}
        self._open: set[_UdpSocket] = set()
        weakref.finalize(self, _close_all, self._open)
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
        return await self._check(domain)

    async def _check(self, domain: str) -> MxResult:
        """:meth:`check` of a domain already normalised."""
        cached = self.cached(domain)
        if cached is not None:
            return cached
        pending = self._pending.get(domain)
        if pending is None:
            task = asyncio.ensure_future(self._lookup_and_store(domain))
            self._share(domain, task)
            pending = task
        # Shielded: a cancelled caller does not cancel the lookup others wait for.
        return await asyncio.shield(pending)

    def _share(self, domain: str, lookup: asyncio.Future[MxResult]) -> None:
        """Let concurrent checks of ``domain`` wait for ``lookup`` instead of asking again."""
        self._pending[domain] = lookup

        def forget(_done: asyncio.Future[MxResult]) -> None:
            if self._pending.get(domain) is lookup:
                del self._pending[domain]

        lookup.add_done_callback(forget)

    async def prefetch(self, domains: Iterable[str], concurrency: int = 64) -> None:
        """Look up every domain not cached yet, ``concurrency`` at a time (a batch's).

        ``concurrency`` workers take the domains in turn and each looks its domain up
        itself (no task, semaphore or shield per domain: an answer wakes one worker, which
        sends the next question). A :meth:`check` of a domain being fetched waits for it.
        """
        todo = []
        for value in dict.fromkeys(domains):
            domain = self._domain(value)
            if domain is not None and self.cached(domain) is None:
                todo.append(domain)
        if not todo:
            return
        domains_left = iter(todo)
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            for domain in domains_left:
                if self.cached(domain) is not None:
                    continue
                pending = self._pending.get(domain)
                if pending is not None:
                    await asyncio.shield(pending)
                    continue
                shared: asyncio.Future[MxResult] = loop.create_future()
                self._share(domain, shared)
                try:
                    result = await self._lookup_and_store(domain)
                except asyncio.CancelledError:
                    # Whoever waits for this domain still gets an answer, as when each
                    # lookup was a shielded task of its own.
                    task = asyncio.ensure_future(self._lookup_and_store(domain))
                    task.add_done_callback(functools.partial(_pass_on, future=shared))
                    raise
                except BaseException as exc:
                    shared.set_exception(exc)
                    shared.exception()  # retrieved: the error goes up from here
                    raise
                shared.set_result(result)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(todo)))))

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
        if ":" not in host and not host.replace(".", "").isdigit():
            return host  # letters: no IP literal (the common case, without an exception)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host
        return None  # an IP literal is not a mail domain

    async def _lookup_and_store(self, domain: str) -> MxResult:
        result = await self._lookup(domain)
        self.remember(domain, result)
        logger.debug("MX %s: %s", domain, result.status)
        return result

    def remember(self, domain: str, result: MxResult) -> None:
        """Keep ``result`` for ``domain`` (already normalised) as if this checker had asked:
        for its TTL, and not at all when it says nothing lasting (a timeout)."""
        if result.ttl > 0:
            self._cache[domain] = (result, self.clock() + result.ttl)
            if len(self._cache) > self.max_entries:  # bounded: oldest answer out first
                del self._cache[next(iter(self._cache))]

    async def _resolve(self, domain: str, rdtype: int) -> _Reply:
        """One question, asked as dnspython's resolver asks it (no search list, no cache).

        Returns the NOERROR or NXDOMAIN reply; raises ``dns.resolver.LifetimeTimeout``
        when time runs out, :class:`_AllFailed` when every server failed,
        ``dns.resolver.YXDOMAIN``, or dnspython's error for an unusable name.
        """
        self.queries += 1
        if len(domain) > 253 or _SAFE_DOMAIN.fullmatch(domain) is None:
            dns.name.from_text(domain)  # raises what dnspython raises for a bad name
        start = time.monotonic()
        servers = list(self._servers)  # those still worth asking
        current = servers[:]
        errors: list[object] = []
        backoff_next = 0.10
        server = servers[0]
        tcp = retry_tcp = False
        while True:
            backoff = 0.0
            if retry_tcp:
                tcp, retry_tcp = True, False
            else:
                if not current:
                    if not servers:
                        raise _AllFailed(errors)
                    current = servers[:]
                    backoff = backoff_next
                    backoff_next = min(backoff_next * 2, 2)
                server = current.pop(0)
                tcp = False
            if backoff:
                await asyncio.sleep(backoff)
            duration = time.monotonic() - start
            if duration >= self.lifetime:
                raise dns.resolver.LifetimeTimeout(timeout=duration, errors=[])
            timeout = min(self.lifetime - duration, self.server_timeout)
            try:
                outcome: _Reply | _Rejected | _Truncated
                if tcp:
                    outcome = await self._ask_tcp(server, domain, rdtype, timeout)
                else:
                    outcome = await self._ask_udp(server, domain, rdtype, timeout)
            except Exception as exc:
                errors.append(exc)
                if isinstance(
                    exc, (dns.exception.FormError | EOFError | OSError, NotImplementedError)
                ):
                    servers.remove(server)
                elif isinstance(exc, dns.message.Truncated):
                    if tcp:
                        servers.remove(server)
                    else:
                        retry_tcp = True
                continue
            if isinstance(outcome, _Truncated):
                if tcp:  # cannot happen over TCP; dnspython's rule anyway
                    servers.remove(server)
                else:
                    retry_tcp = True
                errors.append(dns.message.Truncated())
                continue
            if isinstance(outcome, _Rejected):
                errors.append(outcome.error)
                servers.remove(server)
                continue
            if outcome.rcode in (_NOERROR, _NXDOMAIN):
                return outcome
            if outcome.rcode == _YXDOMAIN:
                raise dns.resolver.YXDOMAIN
            servers.remove(server)
            errors.append(dns.rcode.to_text(dns.rcode.Rcode(outcome.rcode)))

    def _socket(self, family: int) -> _UdpSocket:
        loop = asyncio.get_running_loop()
        sock = self._sockets.get(family)
        if (
            sock is not None
            and sock.loop is loop
            and sock.sent < _SOCKET_QUERIES
            and sock.pid == os.getpid()
        ):
            return sock
        if sock is not None:  # a new source port now and then, and one per event loop
            sock.retired = True
            if not sock.pending:
                sock.close()
        sock = _UdpSocket(family, loop, self._open)
        self._sockets[family] = sock
        return sock

    async def _ask_udp(
        self, server: _Server, domain: str, rdtype: int, timeout: float
    ) -> _Reply | _Rejected | _Truncated:
        sock = self._socket(server.family)
        pending = sock.pending
        while True:
            qid = _random_id()
            key = (server.address, server.port, qid)
            if key not in pending:
                break
        built = _query_wire(qid, domain, rdtype)
        if built is None:
            request = dns.message.make_query(domain, dns.rdatatype.RdataType(rdtype))
            request.id = qid
            wire = request.to_wire()
            question, qname = wire[12:].lower(), b"\\"  # never read as plain: dnspython
        else:
            (wire, question), qname = built, domain.encode("ascii")
        loop = sock.loop
        future: asyncio.Future[_Reply | _Rejected | _Truncated] = loop.create_future()
        waiter = pending[key] = _Waiter(future, question, qname, rdtype, domain, qid)
        sock.sent += 1
        try:
            try:
                sock.sock.sendto(wire, (server.address, server.port))
            except (BlockingIOError, InterruptedError):
                await loop.sock_sendto(sock.sock, wire, (server.address, server.port))
            except OSError:
                # dnspython's asyncio transport drops a failed send: the question times
                # out, the server stays in the list.
                pass
            timer = loop.call_later(timeout, _expire, future)
            try:
                return await future
            finally:
                timer.cancel()
        finally:
            sock.done(key, waiter)

    async def _ask_tcp(
        self, server: _Server, domain: str, rdtype: int, timeout: float
    ) -> _Reply | _Rejected:
        request = dns.message.make_query(domain, dns.rdatatype.RdataType(rdtype))
        response = await dns.asyncquery.tcp(
            request, server.address, timeout=timeout, port=server.port
        )
        return _reply_of(response, request.question[0].name, rdtype)

    def close(self) -> None:
        """Close the sockets (also done when the checker is garbage)."""
        _close_all(self._open)
        self._sockets.clear()

    def _failure(self, domain: str, exc: dns.exception.DNSException) -> MxResult:
        disposable = is_disposable(domain)
        if isinstance(exc, dns.exception.Timeout):
            return MxResult(
                domain, MxStatus.DNS_TIMEOUT, disposable=disposable, ttl=self.failure_ttl
            )
        if isinstance(exc, _AllFailed):
            # The last server's error: an exception or an rcode's text ("SERVFAIL").
            errors = exc.errors
            reason = str(errors[-1]).lower().split(" ", 1)[0] if errors else "no_nameservers"
        else:
            reason = type(exc).__name__.lower()
        return MxResult(
            domain, MxStatus.DNS_ERROR, disposable=disposable, ttl=self.failure_ttl, error=reason
        )

    def _negative_ttl(self, reply: _Reply) -> float:
        """RFC 2308: min(SOA TTL, SOA MINIMUM), at most ``negative_ttl`` (see _negative_ttl)."""
        if reply.soa is None:
            return self.negative_ttl
        return float(min(reply.soa[0], reply.soa[1], self.negative_ttl))

    async def _lookup(self, domain: str) -> MxResult:
        disposable = is_disposable(domain)
        try:
            answer = await self._resolve(domain, _TYPE_MX)
        except dns.exception.DNSException as exc:
            return self._failure(domain, exc)
        if answer.rcode == _NXDOMAIN:
            ttl = self._negative_ttl(answer)
            return MxResult(domain, MxStatus.NXDOMAIN, disposable=disposable, ttl=ttl)
        if answer.answered:
            records = sorted(answer.mx, key=lambda mx: mx[0])
            ttl = min(float(answer.ttl), self.max_ttl)
            exchanges = tuple(exchange for _, exchange in records if exchange is not None)
            if not exchanges:  # only "0 ." (RFC 7505), or a broken variant of it
                return MxResult(domain, MxStatus.NULL_MX, disposable=disposable, ttl=ttl)
            return MxResult(domain, MxStatus.VALID_MX, exchanges, disposable=disposable, ttl=ttl)
        ttl = self._negative_ttl(answer)
        for rdtype in (_TYPE_A, _TYPE_AAAA):
            try:
                address = await self._resolve(domain, rdtype)
            except dns.exception.DNSException as exc:
                return self._failure(domain, exc)
            if address.rcode == _NXDOMAIN:
                break
            if address.answered:
                ttl = min(ttl, float(address.ttl), self.max_ttl)
                return MxResult(
                    domain, MxStatus.NO_MX, a_fallback=True, disposable=disposable, ttl=ttl
                )
        return MxResult(domain, MxStatus.NO_MX, disposable=disposable, ttl=ttl)


async def check_all(checker: MxChecker, domains: Iterable[str]) -> dict[str, MxResult]:
    """Check several domains (or addresses) at once; keys are the values given."""
    values = list(dict.fromkeys(domains))
    results = await asyncio.gather(*(checker.check(value) for value in values))
    return dict(zip(values, results, strict=True))
