"""The MX checker's own wire code against dnspython's, on a corpus of responses.

:mod:`leadcrawler.enricher.dns` builds its questions by hand and reads plain answers with a
strict reader of its own, handing everything else to dnspython. Here both readings of the
same datagrams must agree whenever the fast one gives a verdict: plain answers, spellings
of names, compression, TTL edge cases, negative answers with and without SOA, rcodes, CNAME
chains, truncation, EDNS, trailing bytes, every truncation and thousands of corrupted bytes.
"""

from __future__ import annotations

import random
import struct

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from leadcrawler.enricher.dns import (
    _IGNORED,
    _fast_reply,
    _query_wire,
    _Reply,
    _slow_reply,
)

TYPES = {"MX": 15, "A": 1, "AAAA": 28}


def request(domain: str, rdtype: str, qid: int = 4660) -> dns.message.QueryMessage:
    query = dns.message.make_query(domain, rdtype)
    query.id = qid
    return query


def fast(wire: bytes, domain: str, rdtype: str) -> object:
    built = _query_wire(4660, domain, TYPES[rdtype])
    assert built is not None
    try:
        return _fast_reply(wire, 4660, built[1], domain.encode(), TYPES[rdtype])
    except (IndexError, struct.error, UnicodeDecodeError):  # as the checker does
        return None


def slow(wire: bytes, domain: str, rdtype: str) -> object:
    return _slow_reply(wire, request(domain, rdtype), TYPES[rdtype])


def response(domain: str, rdtype: str, rcode: int = 0, **sections: list[str]) -> bytes:
    message = dns.message.make_response(request(domain, rdtype))
    message.set_rcode(dns.rcode.Rcode(rcode))
    for name in ("answer", "authority", "additional"):
        for text in sections.get(name, []):
            owner, ttl, rtype, rdata = text.split(" ", 3)
            rrset = dns.rrset.from_text(owner, int(ttl), "IN", rtype, rdata)
            getattr(message, name).append(rrset)
    return message.to_wire()


SOA = "ns.example. admin.example. 1 7200 900 1209600"


def corpus() -> list[tuple[str, str, bytes]]:
    d = "empresa.com.br"
    cases = [
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 mx.{d}."])),
        (
            d,
            "MX",
            response(d, "MX", answer=[f"{d}. 300 MX 20 mx2.{d}.", f"{d}. 60 MX 10 MX1.{d}."]),
        ),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 mx.{d}.", f"{d}. 200 MX 10 MX.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 0 ."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 0 .", f"{d}. 300 MX 5 mail.other.net."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 mx_1.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 mx\\.dot.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 m\\@x.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 MX 10 *.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d.upper()}. 300 MX 10 mx.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"other.com.br. 300 MX 10 mx.{d}."])),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 A 127.0.0.1"])),
        (
            d,
            "MX",
            response(
                d,
                "MX",
                answer=[f"{d}. 300 MX 10 mx.{d}."],
                authority=["com.br. 900 NS ns1.com.br.", "com.br. 900 NS ns2.com.br."],
                additional=[f"mx.{d}. 300 A 127.0.0.2", f"mx.{d}. 300 AAAA ::2"],
            ),
        ),
        (d, "MX", response(d, "MX", authority=[f"com.br. 900 SOA {SOA} 120"])),
        (d, "MX", response(d, "MX", authority=[f"com.br. 60 SOA {SOA} 7200"])),
        (
            d,
            "MX",
            response(
                d,
                "MX",
                authority=["com.br. 900 NS ns.com.br.", f"com.br. 50 SOA {SOA} 7200"],
            ),
        ),
        (d, "MX", response(d, "MX")),
        (d, "MX", response(d, "MX", 3)),
        (d, "MX", response(d, "MX", 3, authority=[f"com.br. 900 SOA {SOA} 120"])),
        (d, "MX", response(d, "MX", 3, answer=[f"{d}. 300 MX 10 mx.{d}."])),
        (d, "MX", response(d, "MX", 2)),
        (d, "MX", response(d, "MX", 5)),
        (d, "MX", response(d, "MX", 4)),
        (d, "MX", response(d, "MX", 6)),
        (d, "MX", response(d, "MX", 1)),
        (
            d,
            "MX",
            response(d, "MX", answer=[f"{d}. 300 CNAME mail.{d}.", f"mail.{d}. 100 MX 10 mx.{d}."]),
        ),
        (d, "MX", response(d, "MX", answer=[f"{d}. 300 CNAME mail.other.net."])),
        (d, "A", response(d, "A", answer=[f"{d}. 300 A 127.0.0.3"])),
        (d, "A", response(d, "A", answer=[f"{d}. 300 A 127.0.0.3", f"{d}. 30 A 127.0.0.4"])),
        (d, "A", response(d, "A")),
        (d, "AAAA", response(d, "AAAA", answer=[f"{d}. 300 AAAA ::1"])),
        (d, "AAAA", response(d, "AAAA", 3)),
        (
            "a-b_c.x1.test",
            "MX",
            response("a-b_c.x1.test", "MX", answer=["a-b_c.x1.test. 1 MX 1 x."]),
        ),
    ]
    # TTLs beyond 2**31 - 1 count as 0 (RFC 2181), as dnspython reads them.
    big = bytearray(response(d, "MX", answer=[f"{d}. 300 MX 10 mx.{d}."]))
    at = big.index(struct.pack("!I", 300))
    big[at : at + 4] = struct.pack("!I", 0x80000001)
    cases.append((d, "MX", bytes(big)))
    # The question in another case, with the TC bit, with EDNS, with trailing bytes.
    plain = response(d, "MX", answer=[f"{d}. 300 MX 10 mx.{d}."])
    cases.append((d, "MX", plain[:12] + plain[12:].replace(b"empresa", b"EmPrEsA", 1)))
    tc = bytearray(plain)
    tc[2] |= dns.flags.TC >> 8
    cases.append((d, "MX", bytes(tc)))
    cases.append((d, "MX", bytes(tc[:12]) + plain[12 : 12 + len(d) + 6]))
    edns = dns.message.make_response(request(d, "MX"))
    edns.use_edns(0, payload=1232)
    cases.append((d, "MX", edns.to_wire()))
    cases.append((d, "MX", plain + b"\x00"))
    # Names written out in full (no compression), and a question of another name or type.
    name = dns.name.from_text(d).to_wire()
    exchange = dns.name.from_text(f"mx.{d}").to_wire()
    assert name is not None and exchange is not None
    rdata = struct.pack("!H", 10) + exchange
    uncompressed = (
        plain[:2]
        + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
        + plain[12 : 12 + len(name) + 4]
        + name
        + struct.pack("!HHIH", 15, 1, 300, len(rdata))
        + rdata
    )
    cases.append((d, "MX", uncompressed))
    cases.append(("other.com.br", "MX", plain))
    cases.append((d, "A", plain))
    # Not a response: the QR bit off, another id, another opcode.
    query = bytearray(plain)
    query[2] &= 0x7F
    cases.append((d, "MX", bytes(query)))
    cases.append((d, "MX", b"\x43\x21" + plain[2:]))
    cases.append((d, "MX", plain[:2] + bytes([plain[2] | 0x20]) + plain[3:]))
    # SERVFAIL / REFUSED with no question section.
    for rcode in (2, 5, 0, 3):
        cases.append((d, "MX", plain[:3] + bytes([0x80 | rcode]) + b"\x00\x00" * 4))
    return cases


CORPUS = corpus()


@pytest.mark.parametrize(("domain", "rdtype", "wire"), CORPUS)
def test_fast_reader_agrees_with_dnspython(domain: str, rdtype: str, wire: bytes) -> None:
    verdict = fast(wire, domain, rdtype)
    if verdict is not None:
        assert verdict == slow(wire, domain, rdtype)


def test_plain_answers_are_read_by_the_fast_reader() -> None:
    plain = [case for case in CORPUS[:6] + CORPUS[12:19] + CORPUS[27:33]]
    for domain, rdtype, wire in plain:
        verdict = fast(wire, domain, rdtype)
        assert isinstance(verdict, _Reply), (domain, rdtype, wire)
    assert fast(*CORPUS[0][2:], CORPUS[0][0], "MX") == _Reply(  # type: ignore[misc]
        0, True, 300, ((10, "mx.empresa.com.br"),)
    )


def test_cut_and_corrupted_datagrams_agree_with_dnspython() -> None:
    rng = random.Random(20261130)
    checked = 0
    for domain, rdtype, wire in CORPUS:
        variants = [wire[:cut] for cut in range(len(wire))]
        for _ in range(250):
            corrupt = bytearray(wire)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(2, len(wire)) if len(wire) > 2 else 0
                corrupt[at] = rng.choice([0, 1, 0x3F, 0x40, 0xC0, 0xFF, rng.randrange(256)])
            variants.append(bytes(corrupt))
        for variant in variants:
            verdict = fast(variant, domain, rdtype)
            if verdict is not None:
                assert verdict == slow(variant, domain, rdtype), variant
                checked += 1
            else:
                slow(variant, domain, rdtype)  # dnspython decides; it must not raise
    assert checked > 400  # the fast reader did judge many of them


def test_ignored_datagrams() -> None:
    d = "empresa.com.br"
    plain = response(d, "MX", answer=[f"{d}. 300 MX 10 mx.{d}."])
    assert slow(plain[:20], d, "MX") is _IGNORED
    assert slow(b"\x43\x21" + plain[2:], d, "MX") is _IGNORED


@pytest.mark.parametrize(
    "domain",
    [
        "empresa.com.br",
        "a.b",
        "xn--exmple-cua.test",
        "under_score.com.br",
        "-x-.test",
        "a1-2.b3.c4.d5.e6.f7.g8.com",
        ("x" * 63 + ".") * 3 + "x" * 61,
    ],
)
@pytest.mark.parametrize("rdtype", ["MX", "A", "AAAA"])
def test_questions_are_what_dnspython_sends(domain: str, rdtype: str) -> None:
    built = _query_wire(4660, domain, TYPES[rdtype])
    assert built is not None
    assert built[0] == request(domain, rdtype).to_wire()
    assert built[1] == built[0][12:]


@pytest.mark.parametrize(
    "domain",
    ["a..b", "x" * 64 + ".com", ("x" * 63 + ".") * 4 + "com", "a b.com", "a\\.b.com", "é.com"],
)
def test_unusual_names_are_left_to_dnspython(domain: str) -> None:
    assert _query_wire(1, domain, 15) is None
