"""MX checks against a real DNS server: dnsmasq on 127.0.0.1 and a free high port.

dnsmasq answers only from its configuration (``--no-resolv --no-hosts``): names under
``.test`` it does not know are NXDOMAIN (``local=/test/``), names elsewhere REFUSED. A UDP
socket that never answers stands in for a dead server. Outside CI a missing dnsmasq skips
these tests; with ``CI=true`` it fails them. ``LEADCRAWLER_TEST_DNSMASQ`` names another binary.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.resolver
import dns.rrset
import pytest
from scrapy.settings import Settings

from leadcrawler.enricher.config import ConfigError
from leadcrawler.enricher.dns import (
    DnsConfig,
    MxChecker,
    MxResult,
    MxStatus,
    _negative_ttl,
    check_all,
    disposable_domains,
    is_disposable,
    parse_nameserver,
)
from tests.support.dnsserver import DnsServer, running_dnsmasq

TTL = 300  # seconds: dnsmasq's local-ttl for every record below

CONFIG = f"""
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
pid-file=
log-queries
local-ttl={TTL}
local=/test/
local=/mailinator.com/
mx-host=mail.test,mx2.mail.test,20
mx-host=mail.test,mx1.mail.test,10
host-record=mx1.mail.test,127.0.0.2
mx-host=nullmx.test,.,0
host-record=aonly.test,127.0.0.3
host-record=v6only.test,::1
txt-record=txtonly.test,"v=spf1 -all"
mx-host=cache.test,mx.cache.test,10
mx-host=expire.test,mx.expire.test,10
mx-host=crowd.test,mx.crowd.test,10
mx-host=second.test,mx.second.test,10
mx-host=mailinator.com,mx.mailinator.com,10
"""


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    with running_dnsmasq(tmp_path_factory.mktemp("dnsmasq"), CONFIG, "mail.test") as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP port where a socket receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def check(checker: MxChecker, value: str) -> MxResult:
    return asyncio.run(checker.check(value))


# --- statuses -------------------------------------------------------------------------


def test_valid_mx(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address]), "mail.test")
    assert result == MxResult(
        domain="mail.test",
        status=MxStatus.VALID_MX,
        exchanges=("mx1.mail.test", "mx2.mail.test"),  # by preference
        ttl=TTL,
    )
    assert result.accepts_mail
    assert not result.retryable
    assert str(result.status) == "valid-mx"


def test_address_domain_is_checked(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address]), "Ana.Souza@MAIL.test")
    assert (result.domain, result.status) == ("mail.test", MxStatus.VALID_MX)


def test_null_mx(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address]), "nullmx.test")
    assert (result.status, result.exchanges, result.a_fallback) == (MxStatus.NULL_MX, (), False)
    assert str(result.status) == "null-mx"
    assert not result.accepts_mail
    assert not result.retryable


@pytest.mark.parametrize("domain", ["aonly.test", "v6only.test"])
def test_no_mx_with_address_falls_back(dnsmasq: DnsServer, domain: str) -> None:
    checker = MxChecker([dnsmasq.address])
    result = check(checker, domain)
    assert (result.status, result.a_fallback) == (MxStatus.NO_MX, True)
    assert str(result.status) == "no-mx"
    assert result.accepts_mail  # RFC 5321 §5.1: the implicit MX
    assert result.ttl == TTL  # dnsmasq's NODATA carries no SOA: the A record's TTL rules


def test_no_mx_and_no_address(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address])
    result = check(checker, "txtonly.test")
    assert (result.status, result.a_fallback) == (MxStatus.NO_MX, False)
    assert not result.accepts_mail
    assert not result.retryable
    assert checker.queries == 3  # MX, A, AAAA
    assert dnsmasq.logged("txtonly.test", "AAAA") >= 1


def test_nxdomain(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address], negative_ttl=600), "nx.test")
    assert result.status == MxStatus.NXDOMAIN
    assert str(result.status) == "nxdomain"
    assert result.ttl == 600  # no SOA in dnsmasq's answer: the configured negative TTL
    assert not result.accepts_mail
    assert not result.retryable


def test_refused_is_a_retryable_error(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address]), "example.org")  # outside dnsmasq's zones
    assert (result.status, result.error) == (MxStatus.DNS_ERROR, "refused")
    assert str(result.status) == "dns-error"
    assert result.retryable
    assert not result.accepts_mail


def test_timeout_is_retryable_not_invalid(silent_port: int) -> None:
    checker = MxChecker([f"127.0.0.1:{silent_port}"], timeout=0.3)
    started = time.monotonic()
    result = check(checker, "mail.test")
    assert time.monotonic() - started < 3
    assert result.status == MxStatus.DNS_TIMEOUT
    assert str(result.status) == "dns-timeout"
    assert result.retryable
    assert result.error is None


def test_dead_first_server_leaves_time_for_the_second(dnsmasq: DnsServer, silent_port: int) -> None:
    checker = MxChecker([f"127.0.0.1:{silent_port}", dnsmasq.address], timeout=2.0)
    assert check(checker, "second.test").status == MxStatus.VALID_MX


@pytest.mark.parametrize(
    "value", ["a@[127.0.0.1]", "127.0.0.1", "localhost", "bad..name", "", "a@", "-x-.test!"]
)
def test_unusable_names_send_no_query(value: str) -> None:
    checker = MxChecker(["127.0.0.1:9"])  # never asked
    result = check(checker, value)
    assert (result.status, result.error) == (MxStatus.DNS_ERROR, "invalid_domain")
    assert checker.queries == 0


def test_internationalised_domain_is_asked_in_ascii(dnsmasq: DnsServer) -> None:
    result = check(MxChecker([dnsmasq.address]), "ana@exämple.test")
    assert result.domain == "xn--exmple-cua.test"
    assert result.status == MxStatus.NXDOMAIN
    assert dnsmasq.logged("xn--exmple-cua.test") >= 1


# --- disposable -----------------------------------------------------------------------


def test_disposable_flag_with_any_status(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address])
    valid = check(checker, "someone@mailinator.com")
    assert (valid.status, valid.disposable) == (MxStatus.VALID_MX, True)
    missing = check(checker, "x.mailinator.com")
    assert (missing.status, missing.disposable) == (MxStatus.NXDOMAIN, True)
    assert not check(checker, "mail.test").disposable


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("mailinator.com", True),
        ("MAILINATOR.COM.", True),
        ("eu.mailinator.com", True),
        ("yopmail.com", True),
        ("guerrillamail.com", True),
        ("10minutemail.com", True),
        ("gmail.com", False),
        ("notmailinator.com.br", False),
        ("mailinator.com.br", False),
        ("com", False),
    ],
)
def test_is_disposable(domain: str, expected: bool) -> None:
    assert is_disposable(domain) is expected


def test_disposable_list_file() -> None:
    domains = disposable_domains()
    assert len(domains) >= 50
    assert all(d == d.strip().lower() and "." in d and " " not in d for d in domains)
    text = Path("leadcrawler/domain/data/disposable_domains.txt").read_text("utf-8")
    assert text.startswith("#")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(lines) == len(set(lines))  # no duplicates


# --- cache ----------------------------------------------------------------------------


def test_second_lookup_sends_no_query(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address])

    async def twice() -> tuple[MxResult, MxResult]:
        return await checker.check("a@cache.test"), await checker.check("b@CACHE.test")

    first, second = asyncio.run(twice())
    assert first == second
    assert first.status == MxStatus.VALID_MX
    assert checker.queries == 1
    assert dnsmasq.logged("cache.test") == 1


def test_cache_respects_the_ttl(dnsmasq: DnsServer) -> None:
    clock = FakeClock()
    checker = MxChecker([dnsmasq.address], clock=clock)
    check(checker, "expire.test")
    clock.now += TTL - 1
    check(checker, "expire.test")
    assert (checker.queries, dnsmasq.logged("expire.test")) == (1, 1)
    clock.now += 1  # the TTL has run out
    assert checker.cached("expire.test") is None
    check(checker, "expire.test")
    assert (checker.queries, dnsmasq.logged("expire.test")) == (2, 2)


def test_max_ttl_shortens_the_cache(dnsmasq: DnsServer) -> None:
    clock = FakeClock()
    checker = MxChecker([dnsmasq.address], max_ttl=10, clock=clock)
    assert check(checker, "mail.test").ttl == 10
    clock.now += 10
    check(checker, "mail.test")
    assert checker.queries == 2


def test_negative_answers_are_cached(dnsmasq: DnsServer) -> None:
    clock = FakeClock()
    checker = MxChecker([dnsmasq.address], negative_ttl=60, clock=clock)
    check(checker, "gone.test")
    check(checker, "gone.test")
    assert checker.queries == 1
    clock.now += 60
    check(checker, "gone.test")
    assert checker.queries == 2


def test_failures_are_remembered_briefly(silent_port: int) -> None:
    clock = FakeClock()
    checker = MxChecker([f"127.0.0.1:{silent_port}"], timeout=0.2, failure_ttl=30, clock=clock)
    assert check(checker, "mail.test").status == MxStatus.DNS_TIMEOUT
    assert check(checker, "mail.test").status == MxStatus.DNS_TIMEOUT
    assert checker.queries == 1
    clock.now += 30
    check(checker, "mail.test")
    assert checker.queries == 2


def test_concurrent_checks_share_one_lookup(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address])
    addresses = [f"user{i}@crowd.test" for i in range(5)]
    results = asyncio.run(check_all(checker, addresses))
    assert list(results) == addresses
    assert {r.status for r in results.values()} == {MxStatus.VALID_MX}
    assert checker.queries == 1
    assert dnsmasq.logged("crowd.test") == 1


def test_clear_forgets_everything(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address])
    check(checker, "nullmx.test")
    checker.clear()
    check(checker, "nullmx.test")
    assert checker.queries == 2


@pytest.mark.parametrize(
    ("soa_ttl", "minimum", "cap", "expected"),
    [(900, 120, 3600, 120), (60, 300, 3600, 60), (900, 7200, 600, 600)],
)
def test_negative_ttl_from_soa(soa_ttl: int, minimum: int, cap: float, expected: float) -> None:
    response = dns.message.make_response(dns.message.make_query("gone.example", "MX"))
    response.authority.append(
        dns.rrset.from_text(
            "example.",
            soa_ttl,
            "IN",
            "SOA",
            f"ns.example. admin.example. 1 7200 900 1209600 {minimum}",
        )
    )
    assert _negative_ttl(response, cap) == expected
    assert _negative_ttl(dns.message.make_response(dns.message.make_query("x.", "MX")), cap) == cap


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "address", "port"),
    [
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        (" 9.9.9.9 ", "9.9.9.9", 53),
        ("[::1]:5353", "::1", 5353),
        ("[2001:db8::1]", "2001:db8::1", 53),
        ("::1", "::1", 53),
    ],
)
def test_parse_nameserver(spec: str, address: str, port: int) -> None:
    server = parse_nameserver(spec)
    assert (server.address, server.port) == (address, port)


@pytest.mark.parametrize(
    "spec",
    ["dns.google:53", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:abc", "[::1]x", "", "1.2.3"],
)
def test_bad_nameservers(spec: str) -> None:
    with pytest.raises(ValueError, match="name server"):
        parse_nameserver(spec)


def test_checker_needs_servers_and_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match="name server"):
        MxChecker([])
    with pytest.raises(ValueError, match="timeout"):
        MxChecker(["127.0.0.1"], timeout=0)


def test_config_from_settings(dnsmasq: DnsServer) -> None:
    settings = Settings(
        {
            "ENRICH_DNS_NAMESERVERS": [dnsmasq.address],
            "ENRICH_DNS_TIMEOUT": 2,
            "ENRICH_DNS_MAX_TTL": 120,
        }
    )
    config = DnsConfig.from_settings(settings)
    assert config == DnsConfig(nameservers=(dnsmasq.address,), timeout=2.0, max_ttl=120.0)
    result = check(config.checker(), "mail.test")
    assert (result.status, result.ttl) == (MxStatus.VALID_MX, 120)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ENRICH_DNS_NAMESERVERS": ["dns.google"]}, "not an IP address"),
        ({"ENRICH_DNS_NAMESERVERS": ["1.1.1.1"], "ENRICH_DNS_TIMEOUT": 0}, "TIMEOUT"),
        ({"ENRICH_DNS_NAMESERVERS": ["1.1.1.1"], "ENRICH_DNS_FAILURE_TTL": -1}, "TTL"),
    ],
)
def test_config_rejects_bad_settings(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DnsConfig.from_settings(Settings(values))


def test_empty_nameservers_means_the_machines_resolvers() -> None:
    from leadcrawler.enricher.dns import system_nameservers

    expected = tuple(system_nameservers())
    if not expected:
        with pytest.raises(ConfigError, match=r"resolv\.conf"):
            DnsConfig.from_settings(Settings({"ENRICH_DNS_NAMESERVERS": []}))
        return
    config = DnsConfig.from_settings(Settings({"ENRICH_DNS_NAMESERVERS": []}))
    assert config.nameservers == expected  # built only: no query is sent


def test_comma_separated_nameservers_setting() -> None:
    config = DnsConfig.from_settings(Settings({"ENRICH_DNS_NAMESERVERS": "1.1.1.1,9.9.9.9:53"}))
    assert config.nameservers == ("1.1.1.1", "9.9.9.9:53")


def test_a_batch_asks_each_new_domain_once_and_the_cache_stays_bounded(dnsmasq: DnsServer) -> None:
    checker = MxChecker([dnsmasq.address], max_entries=2)

    async def batch() -> None:
        await checker.prefetch(["a@one.test", "b@ONE.test", "two.test", "c@three.test"])

    asyncio.run(batch())
    assert checker.queries == 3  # one per distinct domain, asked together
    assert checker.cached("one.test") is None  # the oldest answer made room
    assert checker.cached("three.test") is not None
    asyncio.run(batch())  # what is still cached is not asked again
    assert checker.queries == 4


# --- the checker's own UDP client against dnspython's resolver --------------------------

BIG = [f"mailserver-number-{i:02d}-with-a-rather-long-name.big.test" for i in range(40)]
SPECIAL = f"""
local=/test/
mx-host=mail.test,mx2.mail.test,20
mx-host=mail.test,mx1.mail.test,10
host-record=mx1.mail.test,127.0.0.2
mx-host=nullmx.test,.,0
host-record=aonly.test,127.0.0.3
host-record=v6only.test,::1
txt-record=txtonly.test,"v=spf1 -all"
cname=alias.test,mx1.mail.test
cname=chain.test,alias.test
{chr(10).join(f"mx-host=big.test,{name},{i}" for i, name in enumerate(BIG))}
"""
NAMES = [
    "mail.test",
    "nullmx.test",
    "aonly.test",
    "v6only.test",
    "txtonly.test",
    "nx.test",
    "example.org",  # REFUSED
    "alias.test",  # CNAME
    "chain.test",  # CNAME to a CNAME
    "big.test",  # too big for 512 bytes of UDP: TC, then TCP
]


class ReferenceChecker(MxChecker):
    """The checker as it was: dnspython's asynchronous Resolver for every question."""

    def __init__(self, nameservers: list[str], timeout: float = 5.0) -> None:
        super().__init__(nameservers, timeout=timeout)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [parse_nameserver(spec) for spec in nameservers]
        resolver.lifetime = timeout
        resolver.timeout = timeout / len(nameservers)
        resolver.cache = None
        self.resolver = resolver

    async def _reference(self, domain: str, rdtype: str) -> dns.resolver.Answer:
        return await self.resolver.resolve(
            dns.name.from_text(domain), rdtype, raise_on_no_answer=False, search=False
        )

    def _old_failure(self, domain: str, exc: dns.exception.DNSException) -> MxResult:
        if isinstance(exc, dns.exception.Timeout):
            return MxResult(domain, MxStatus.DNS_TIMEOUT, disposable=False, ttl=self.failure_ttl)
        if isinstance(exc, dns.resolver.NoNameservers):
            errors = exc.kwargs.get("errors") or []
            reason = str(errors[-1][3]).lower().split(" ", 1)[0] if errors else "no_nameservers"
        else:
            reason = type(exc).__name__.lower()
        return MxResult(domain, MxStatus.DNS_ERROR, ttl=self.failure_ttl, error=reason)

    async def _lookup(self, domain: str) -> MxResult:
        try:
            answer = await self._reference(domain, "MX")
        except dns.resolver.NXDOMAIN as exc:
            responses = list(exc.responses().values())
            ttl = _negative_ttl(responses[0], self.negative_ttl) if responses else self.negative_ttl
            return MxResult(domain, MxStatus.NXDOMAIN, ttl=ttl)
        except dns.exception.DNSException as exc:
            return self._old_failure(domain, exc)
        if answer.rrset is not None:
            records = sorted(answer.rrset, key=lambda mx: mx.preference)
            ttl = min(float(answer.rrset.ttl), self.max_ttl)
            exchanges = tuple(
                mx.exchange.to_text(omit_final_dot=True)
                for mx in records
                if mx.exchange != dns.name.root
            )
            if not exchanges:
                return MxResult(domain, MxStatus.NULL_MX, ttl=ttl)
            return MxResult(domain, MxStatus.VALID_MX, exchanges, ttl=ttl)
        ttl = _negative_ttl(answer.response, self.negative_ttl)
        for rdtype in ("A", "AAAA"):
            try:
                address = await self._reference(domain, rdtype)
            except dns.resolver.NXDOMAIN:
                break
            except dns.exception.DNSException as exc:
                return self._old_failure(domain, exc)
            if address.rrset is not None:
                ttl = min(ttl, float(address.rrset.ttl), self.max_ttl)
                return MxResult(domain, MxStatus.NO_MX, a_fallback=True, ttl=ttl)
        return MxResult(domain, MxStatus.NO_MX, ttl=ttl)


def both(servers: list[str], names: list[str], timeout: float = 2.0) -> tuple[list, list]:
    async def run(checker: MxChecker) -> list[MxResult]:
        await checker.prefetch(names)
        results = [checker.cached(name) for name in names]
        checker.close()
        return [r for r in results if r is not None] + [
            await checker.check(n) for n in names if checker.cached(n) is None
        ]

    return (
        asyncio.run(run(MxChecker(servers, timeout=timeout))),
        asyncio.run(run(ReferenceChecker(servers, timeout=timeout))),
    )


@pytest.fixture(scope="module")
def special(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    config = CONFIG.split("local=/test/")[0] + SPECIAL
    with running_dnsmasq(tmp_path_factory.mktemp("special"), config, "mail.test") as server:
        yield server


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    """dnsmasq that knows only ``probe.example``: every ``.test`` name is REFUSED."""
    config = CONFIG.split("local=/test/")[0] + "local=/example/\nmx-host=probe.example,mx,1\n"
    with running_dnsmasq(tmp_path_factory.mktemp("refusing"), config, "probe.example") as server:
        yield server


def test_same_results_as_dnspythons_resolver(special: DnsServer) -> None:
    ours, reference = both([special.address], NAMES)
    assert ours == reference
    statuses = {r.domain: r.status for r in ours}
    assert statuses["example.org"] == MxStatus.DNS_ERROR
    assert statuses["nx.test"] == MxStatus.NXDOMAIN


def test_truncated_answer_is_asked_again_over_tcp(special: DnsServer) -> None:
    result = check(MxChecker([special.address]), "big.test")
    assert result.status == MxStatus.VALID_MX
    assert result.exchanges == tuple(BIG)  # all 40, by preference: the TCP answer
    assert special.logged("big.test") >= 2  # UDP (truncated), then TCP


@pytest.mark.parametrize(
    "order",
    [
        ("refusing", "special"),
        ("special", "refusing"),
        ("silent", "special"),
        ("refusing", "refusing"),
        ("silent", "refusing"),
        ("refusing", "silent", "special"),
    ],
)
def test_failover_is_dnspythons(
    order: tuple[str, ...], special: DnsServer, refusing: DnsServer, silent_port: int
) -> None:
    address = {
        "special": special.address,
        "refusing": refusing.address,
        "silent": f"127.0.0.1:{silent_port}",
    }
    servers = [address[name] for name in order]
    ours, reference = both(servers, ["mail.test", "nx.test", "aonly.test"], timeout=0.6)
    assert ours == reference


def test_many_questions_share_few_sockets(
    special: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("leadcrawler.enricher.dns._SOCKET_QUERIES", 5)
    checker = MxChecker([special.address])
    names = [f"n{i}.test" for i in range(30)] + ["mail.test", "big.test", "alias.test"]
    asyncio.run(checker.prefetch(names))
    assert all(checker.cached(name) is not None for name in names)
    assert checker.cached("mail.test") == check(MxChecker([special.address]), "mail.test")
    assert len(checker._open) <= 2  # retired sockets are closed once their answers are in
    checker.close()
    assert not checker._open


def test_answers_only_from_the_server_asked_with_its_id_and_question() -> None:
    """A scripted server: forged answers (another source, id or question) are ignored."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as forger,
    ):
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        server.settimeout(5)

        async def scenario() -> MxResult:
            checker = MxChecker([f"127.0.0.1:{port}"], timeout=3)
            task = asyncio.ensure_future(checker.check("mail.test"))
            loop = asyncio.get_running_loop()
            wire, client = await loop.run_in_executor(None, server.recvfrom, 512)
            query = dns.message.from_wire(wire)

            def answer(name: str, exchange: str, qid: int) -> bytes:
                forged = dns.message.make_query(name, "MX")
                forged.id = qid
                reply = dns.message.make_response(forged)
                reply.answer.append(
                    dns.rrset.from_text(name + ".", 60, "IN", "MX", f"10 {exchange}.")
                )
                return reply.to_wire()

            forger.sendto(answer("mail.test", "forged-source", query.id), client)
            server.sendto(answer("mail.test", "forged-id", query.id ^ 1), client)
            server.sendto(answer("other.test", "forged-question", query.id), client)
            server.sendto(b"\x00" * 5, client)
            await asyncio.sleep(0.1)
            assert not task.done()
            server.sendto(answer("MAIL.test", "mx.example.net", query.id), client)
            result = await task
            checker.close()
            return result

        result = asyncio.run(scenario())
    assert (result.status, result.exchanges, result.ttl) == (
        MxStatus.VALID_MX,
        ("mx.example.net",),
        60,
    )


def test_ids_are_reused_safely_under_load(
    special: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few ids for many questions in flight: an id freed by an answer serves the next
    question at once, and no question may lose its answer to another's clean-up."""
    import random

    rng = random.Random(7)
    monkeypatch.setattr("leadcrawler.enricher.dns._random_id", lambda: rng.randrange(70))
    checker = MxChecker([special.address], timeout=2)
    names = [f"load{i}.test" for i in range(1500)] + ["mail.test"]
    asyncio.run(checker.prefetch(names))
    results = [checker.cached(name) for name in names]
    assert all(r is not None and r.status == MxStatus.NXDOMAIN for r in results[:-1])
    assert results[-1] is not None and results[-1].status == MxStatus.VALID_MX
    checker.close()


def test_a_cancelled_prefetch_still_answers_those_waiting(special: DnsServer) -> None:
    checker = MxChecker([special.address])

    async def scenario() -> tuple[MxResult, bool]:
        batch = asyncio.ensure_future(checker.prefetch(["mail.test", "aonly.test"]))
        await asyncio.sleep(0)  # the workers have sent their questions
        waiting = asyncio.ensure_future(checker.check("mail.test"))
        await asyncio.sleep(0)
        batch.cancel()
        result = await waiting
        return result, batch.cancelled()

    result, cancelled = asyncio.run(scenario())
    checker.close()
    assert cancelled
    assert (result.status, result.exchanges) == (
        MxStatus.VALID_MX,
        ("mx1.mail.test", "mx2.mail.test"),
    )
