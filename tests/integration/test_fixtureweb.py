"""Tests for the local fake web (fixtureweb): proxying, tunnelling, routes, robots."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from fixtureweb import FixtureWeb

SHOP = "shop.example.com.br"
SHORT = "go.example.app"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "web"
    shop = site / SHOP
    (shop / "blog").mkdir(parents=True)
    (shop / "index.html").write_text("<h1>Início</h1>", encoding="utf-8")
    (shop / "AbC1234.html").write_text("<title>Curso</title>", encoding="utf-8")
    (shop / "feed.xml").write_text("<rss/>", encoding="utf-8")
    (shop / "blog" / "index.html").write_text("<h1>Blog</h1>", encoding="utf-8")
    (shop / "robots.txt").write_text("User-agent: *\nDisallow: /private\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the root", encoding="utf-8")
    short = site / SHORT
    short.mkdir()
    (short / "gone.html").write_text("<p>indisponível</p>", encoding="utf-8")
    (short / "_routes.json").write_text(
        json.dumps(
            {
                "/AbC1234": {"status": 302, "headers": {"Location": f"https://{SHOP}/AbC1234"}},
                "/busy": {"status": 503, "headers": {"Retry-After": "120"}, "body": "ocupado"},
                "/removed": {"status": 404, "file": "gone.html"},
                "/slow": {"status": 200, "body": "devagar", "delay": 0.3},
            }
        ),
        encoding="utf-8",
    )
    return site


@pytest.fixture
def web(root: Path) -> Iterator[FixtureWeb]:
    with FixtureWeb(root) as server:
        yield server


def _proxy_opener(web: FixtureWeb) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": web.proxy_url, "https": web.proxy_url})
    )


def _get(web: FixtureWeb, url: str, method: str = "GET") -> http.client.HTTPResponse:
    """One request through the proxy in absolute form, without following redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        conn.request(method, url)
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def test_http_through_proxy(web: FixtureWeb) -> None:
    with _proxy_opener(web).open(f"http://{SHOP}/AbC1234?utm_source=x", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        body = response.read()
    assert body == b"<title>Curso</title>"
    assert int(response.headers["Content-Length"]) == len(body)


def test_file_lookup_rules(web: FixtureWeb) -> None:
    opener = _proxy_opener(web)
    with opener.open(f"http://{SHOP}/", timeout=10) as response:
        assert response.read().decode() == "<h1>Início</h1>"
    with opener.open(f"http://{SHOP}/blog", timeout=10) as response:
        assert response.read() == b"<h1>Blog</h1>"
    with opener.open(f"http://{SHOP}/feed.xml", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/xml"


def test_https_through_connect_tunnel_with_keep_alive(web: FixtureWeb) -> None:
    context = ssl._create_unverified_context()
    conn = http.client.HTTPSConnection("127.0.0.1", web.port, timeout=10, context=context)
    conn.set_tunnel(SHOP, 443)
    try:
        conn.request("GET", "/AbC1234?src=ads")
        first = conn.getresponse()
        assert first.status == 200
        assert first.read() == b"<title>Curso</title>"
        conn.request("HEAD", "/")  # same tunnel, same TLS session
        second = conn.getresponse()
        assert second.status == 200
        assert second.read() == b""
        assert int(second.headers["Content-Length"]) == len("<h1>Início</h1>".encode())
    finally:
        conn.close()
    assert web.requests == [("GET", SHOP, "/AbC1234?src=ads"), ("HEAD", SHOP, "/")]


def _tunnel_certificate(web: FixtureWeb, connect: str, sni: str | None) -> x509.Certificate:
    """The certificate the proxy presents in a ``CONNECT connect:443`` tunnel for ``sni``."""
    context = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as raw:
        raw.sendall(f"CONNECT {connect}:443 HTTP/1.1\r\nHost: {connect}:443\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += raw.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200")
        with context.wrap_socket(raw, server_hostname=sni) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _dns_names(cert: x509.Certificate) -> list[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName)


def test_each_host_gets_its_own_small_certificate(web: FixtureWeb) -> None:
    # One certificate naming every host made each client handshake O(hosts) (Scrapy parses
    # the whole name list): each host now has one naming it alone, chosen by SNI, cached.
    shop = _tunnel_certificate(web, SHOP, SHOP)
    short = _tunnel_certificate(web, SHORT, SHORT)
    unknown = _tunnel_certificate(web, "new.example.org", "new.example.org")
    assert _dns_names(shop) == [SHOP]
    assert _dns_names(short) == [SHORT]
    assert _dns_names(unknown) == ["new.example.org"]  # minted on demand, not only for root's
    assert shop.public_key() == short.public_key()  # one shared key
    assert _tunnel_certificate(web, SHOP, SHOP).serial_number == shop.serial_number  # cached
    assert len(web.certificates) == 3
    # The SNI name wins; a client that sends none gets the CONNECT target's certificate.
    assert _dns_names(_tunnel_certificate(web, SHOP, SHORT)) == [SHORT]
    assert _dns_names(_tunnel_certificate(web, SHORT, None)) == [SHORT]


def test_origin_form_uses_host_header(web: FixtureWeb) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        conn.request("GET", "/AbC1234", headers={"Host": f"{SHOP}:80"})
        response = conn.getresponse()
        assert response.read() == b"<title>Curso</title>"
    finally:
        conn.close()


def test_route_redirect(web: FixtureWeb) -> None:
    response = _get(web, f"http://{SHORT}/AbC1234")
    assert response.status == 302
    assert response.headers["Location"] == f"https://{SHOP}/AbC1234"
    assert response.headers["Content-Length"] == "0"


def test_route_status_with_retry_after(web: FixtureWeb) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _proxy_opener(web).open(f"http://{SHORT}/busy", timeout=10)
    with caught.value as error:
        assert error.code == 503
        assert error.headers["Retry-After"] == "120"
        assert error.read() == b"ocupado"


def test_route_file_and_delay(web: FixtureWeb) -> None:
    removed = _get(web, f"http://{SHORT}/removed")
    assert removed.status == 404
    assert removed.headers["Content-Type"] == "text/html; charset=utf-8"
    started = time.monotonic()
    assert _get(web, f"http://{SHORT}/slow").status == 200
    assert time.monotonic() - started >= 0.25


def test_robots_txt_default_and_file(web: FixtureWeb) -> None:
    opener = _proxy_opener(web)
    with opener.open(f"http://{SHORT}/robots.txt", timeout=10) as response:
        assert response.read() == b"User-agent: *\nAllow: /\n"
        assert response.headers["Content-Type"].startswith("text/plain")
    with opener.open(f"http://{SHOP}/robots.txt", timeout=10) as response:
        assert b"Disallow: /private" in response.read()


@pytest.mark.parametrize(
    "url",
    [
        f"http://{SHOP}/nao-existe",
        "http://unknown.example.org/",
        f"http://{SHORT}/_routes.json",
        f"http://{SHOP}/../secret.txt",
        f"http://{SHOP}/%2e%2e/secret.txt",
    ],
)
def test_not_found(web: FixtureWeb, url: str) -> None:
    response = _get(web, url)
    assert response.status == 404


def test_unknown_host_over_tls_is_404(web: FixtureWeb) -> None:
    context = ssl._create_unverified_context()
    conn = http.client.HTTPSConnection("127.0.0.1", web.port, timeout=10, context=context)
    conn.set_tunnel("www.google.com", 443)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 404
        response.read()
    finally:
        conn.close()


def test_malformed_requests_do_not_break_the_server(web: FixtureWeb) -> None:
    for garbage in (
        b"\x16\x03\x01garbage\r\n\r\n",
        b"GET\r\n\r\n",
        b"CONNECT nohost HTTP/1.1\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
            sock.sendall(garbage)
            # The server may already have answered 400 and closed: nothing left to shut.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            assert reply == b"" or reply.startswith(b"HTTP/1.1 400")
    assert _get(web, f"http://{SHOP}/").status == 200


def test_request_log_and_proxy_env(web: FixtureWeb) -> None:
    _get(web, f"http://{SHOP}/AbC1234?afid=1")
    _get(web, "http://unknown.example.org/x", method="HEAD")
    assert web.requests == [
        ("GET", SHOP, "/AbC1234?afid=1"),
        ("HEAD", "unknown.example.org", "/x"),
    ]
    web.clear_requests()
    assert web.requests == []
    env = web.proxy_env()
    assert env["https_proxy"] == env["HTTP_PROXY"] == f"http://127.0.0.1:{web.port}"
    assert env["no_proxy"] == env["NO_PROXY"] == ""


def test_stop_closes_kept_alive_connections(root: Path) -> None:
    server = FixtureWeb(root).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        conn.request("GET", f"http://{SHOP}/")
        conn.getresponse().read()
        silent.sendall(f"CONNECT {SHOP}:443 HTTP/1.1\r\n\r\n".encode())
        assert silent.recv(4096).startswith(b"HTTP/1.1 200")  # then never starts TLS
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
    finally:
        conn.close()
        silent.close()
    server.stop()  # idempotent


@pytest.fixture
def misbehaving(tmp_path: Path) -> Iterator[FixtureWeb]:
    """A fixture web with the resilience features: sequences, a catch-all route, closes."""
    site = tmp_path / "web"
    flaky = site / "flaky.example.com"
    flaky.mkdir(parents=True)
    (flaky / "ok.html").write_text("<p>ok</p>", encoding="utf-8")
    (flaky / "_routes.json").write_text(
        json.dumps(
            {
                "/page": {
                    "sequence": [
                        {"status": 503, "headers": {"Retry-After": "1"}},
                        {"status": 429},
                        {"file": "ok.html"},
                    ]
                },
                "/flip": {"cycle": True, "sequence": [{"status": 200}, {"status": 429}]},
                "/bad": {"sequence": []},
                "/drop": {"close": True},
            }
        ),
        encoding="utf-8",
    )
    dead = site / "dead.example.com"
    dead.mkdir()
    (dead / "index.html").write_text("never served", encoding="utf-8")
    (dead / "_routes.json").write_text(json.dumps({"*": {"close": True}}), encoding="utf-8")
    with FixtureWeb(site) as server:
        yield server


def test_sequence_answers_in_order_then_repeats_the_last(misbehaving: FixtureWeb) -> None:
    statuses = [_get(misbehaving, "http://flaky.example.com/page").status for _ in range(4)]
    assert statuses == [503, 429, 200, 200]
    # Counted per host and path, query strings ignored; reset_sequences() starts over.
    assert _get(misbehaving, "http://flaky.example.com/flip?x=1").status == 200
    assert _get(misbehaving, "http://flaky.example.com/flip?x=2").status == 429
    assert _get(misbehaving, "http://flaky.example.com/flip").status == 200  # "cycle": true
    misbehaving.reset_sequences()
    assert _get(misbehaving, "http://flaky.example.com/page").status == 503


def test_malformed_sequence_is_a_500(misbehaving: FixtureWeb) -> None:
    assert _get(misbehaving, "http://flaky.example.com/bad").status == 500


@pytest.mark.parametrize(
    "url",
    [
        "http://flaky.example.com/drop",
        "http://dead.example.com/",
        "http://dead.example.com/robots.txt",
    ],
)
def test_close_route_drops_the_connection_without_an_answer(
    misbehaving: FixtureWeb, url: str
) -> None:
    # The catch-all "*" route of dead.example.com wins over its files and the robots.txt default.
    with pytest.raises(http.client.RemoteDisconnected):
        _get(misbehaving, url)
    assert _get(misbehaving, "http://flaky.example.com/flip").status in {200, 429}  # still serving


def test_timed_requests_stamp_each_request(misbehaving: FixtureWeb) -> None:
    before = time.monotonic()
    _get(misbehaving, "http://flaky.example.com/flip")
    time.sleep(0.2)
    _get(misbehaving, "http://flaky.example.com/flip")
    (first, *rest), (second, *_) = misbehaving.timed_requests
    assert rest == ["GET", "flaky.example.com", "/flip"]
    assert before <= first and second - first >= 0.2
    assert misbehaving.requests == [("GET", "flaky.example.com", "/flip")] * 2


SPIDER = """
import scrapy

class Probe(scrapy.Spider):
    name = "probe"
    custom_settings = {"ROBOTSTXT_OBEY": True, "RETRY_ENABLED": False, "LOG_LEVEL": "INFO"}

    async def start(self):
        for url in ("https://go.example.app/AbC1234", "https://shop.example.com.br/private/x",
                    "https://shop.example.com.br/feed.xml"):
            yield scrapy.Request(url)

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "body": response.text}
"""


def test_scrapy_crawls_real_urls_through_the_proxy(web: FixtureWeb, tmp_path: Path) -> None:
    spider_file = tmp_path / "probe.py"
    spider_file.write_text(SPIDER, encoding="utf-8")
    out = tmp_path / "items.json"
    env = {**os.environ, **web.proxy_env()}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", str(spider_file), "-O", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    items = {item["url"]: item for item in json.loads(out.read_text("utf-8"))}
    assert items[f"https://{SHOP}/AbC1234"]["body"] == "<title>Curso</title>"
    assert f"https://{SHOP}/feed.xml" in items
    assert f"https://{SHOP}/private/x" not in items  # robots.txt from the file was obeyed
    assert ("GET", SHOP, "/robots.txt") in web.requests
    assert ("GET", SHORT, "/AbC1234") in web.requests
