from __future__ import annotations

import socket

import pytest

from leadcrawler.domain.urls import canonical_host, canonical_url, registered_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Loja.COM.br/Produto", "https://www.loja.com.br/Produto"),
        ("https://loja.com.br:443/a", "https://loja.com.br/a"),
        ("http://loja.com.br:80/a", "http://loja.com.br/a"),
        ("http://loja.com.br:8080/a", "http://loja.com.br:8080/a"),
        ("https://loja.com.br", "https://loja.com.br/"),
        ("https://loja.com.br/a#contato", "https://loja.com.br/a"),
        ("https://loja.com.br/a?b=2&a=1&a=0", "https://loja.com.br/a?a=0&a=1&b=2"),
        ("https://loja.com.br/a b", "https://loja.com.br/a%20b"),
        ("https://loja.com.br/caf%C3%A9", "https://loja.com.br/caf%C3%A9"),
        ("https://loja.com.br./", "https://loja.com.br/"),
        ("  https://loja.com.br/\n", "https://loja.com.br/"),
        ("https://lo\u200bja.com.br/", "https://loja.com.br/"),
        ("http://exämple.com.br/", "http://xn--exmple-cua.com.br/"),
        ("https://g\u043e\u043egle.com/", "https://xn--ggle-55da.com/"),  # Cyrillic "o"s shown
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    "param",
    [
        "utm_source=ig",
        "UTM_Campaign=x",
        "fbclid=1",
        "gclid=1",
        "gbraid=1",
        "wbraid=1",
        "msclkid=1",
        "mc_cid=1",
        "mc_eid=1",
        "igshid=1",
        "ref=home",
        "src=bio",
        "sck=x",
        "afid=abc",
        "coupon=OFF10",
        "email=buyer%40gmail.com",
        "Email=buyer%40gmail.com",
        "name=Maria+Souza",
        "phone=11912345678",
        "cpf=12345678909",
        "cnpj=11222333000181",
        "document=12345678909",
        "customer_email=x",
        "buyer%5Bphone%5D=11912345678",
        "q=maria%40gmail.com",  # unknown name, but the value is an e-mail
    ],
)
def test_canonical_url_drops_tracking_and_personal_params(param: str) -> None:
    assert canonical_url(f"https://loja.com.br/p?id=7&{param}") == "https://loja.com.br/p?id=7"


def test_canonical_url_platform_checkout_loses_whole_query() -> None:
    url = "http://PAY.kiwify.com.br/46MiJGu/?afid=x&email=buyer@gmail.com&cpf=1&foo=bar#top"
    assert canonical_url(url) == "https://pay.kiwify.com.br/46MiJGu"


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "mailto:contato@loja.com.br",
        "tel:+5511912345678",
        "file:///etc/passwd",
        "ftp://loja.com.br/x",
        "data:text/html,<script>",
        "//loja.com.br/x",
        "/contato",
        "www.loja.com.br",  # no scheme and none assumed
        "http://",
        "http://loja .com.br/",
        "http://loja.com.br:99999/",
        "http://[::1/",
        "",
        "   ",
        None,
    ],
)
def test_canonical_url_refuses(raw: str | None) -> None:
    assert canonical_url(raw) is None


def test_canonical_url_drops_credentials_and_the_at_sign_trick() -> None:
    assert canonical_url("https://user:secret@loja.com.br/") == "https://loja.com.br/"
    # The host is evil.example, not Kiwify: no platform treatment for it.
    assert (
        canonical_url("https://pay.kiwify.com.br@evil.example/x?a=1")
        == "https://evil.example/x?a=1"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("www.loja.com.br", "https://www.loja.com.br/"),
        ("loja.com.br/contato?utm_source=x", "https://loja.com.br/contato"),
        ("exämple.com.br", "https://xn--exmple-cua.com.br/"),
        ("javascript:alert(1)", None),
        ("contato", None),
    ],
)
def test_canonical_url_assume_scheme(raw: str, expected: str | None) -> None:
    assert canonical_url(raw, assume_scheme="https") == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Loja.com.br:80/a b?z=1&utm_medium=x&a=%20")
    assert once is not None
    assert canonical_url(once) == once


def test_canonical_host() -> None:
    assert canonical_host("WWW.Exämple.COM.br.") == "www.xn--exmple-cua.com.br"
    assert canonical_host("127.0.0.1") == "127.0.0.1"
    assert canonical_host("bad host") is None
    assert canonical_host("") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.loja.com.br/x", "loja.com.br"),
        ("https://a.b.loja.com.br:8443/x", "loja.com.br"),
        ("www.loja.com.br", "loja.com.br"),
        ("loja.com.br:8080", "loja.com.br"),
        ("LOJA.COM.BR", "loja.com.br"),
        ("https://pay.kiwify.com.br/46MiJGu", "kiwify.com.br"),
        ("https://c.gov.br", "c.gov.br"),
        ("https://exämple.com.br/", "xn--exmple-cua.com.br"),
        # PSL private section: each shop keeps its own domain.
        ("https://minhaloja.myshopify.com/", "minhaloja.myshopify.com"),
        ("https://127.0.0.1/", None),
        ("127.0.0.1", None),
        ("http://[::1]/", None),
        ("localhost", None),
        ("http://localhost:8000/", None),
        ("http://2130706433/", None),
        ("http://0x7f.1/", None),
        ("http://intranet/", None),
        ("com.br", None),
        ("", None),
        (None, None),
    ],
)
def test_registered_domain(raw: str | None, expected: str | None) -> None:
    assert registered_domain(raw) == expected


def test_registered_domain_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert registered_domain("https://www.exemplo-novo.com.br/") == "exemplo-novo.com.br"
