"""A local "fake web": an HTTP forward proxy that serves saved pages instead of the internet.

Tests and the ``leadcrawler demo`` command point the standard ``http_proxy``/``https_proxy``
environment variables at it, so spiders crawl their real URLs (``https://pay.kiwify.com.br/46MiJGu``)
with no test-only code in the product. It never opens an outward connection.

What it understands:

* proxy requests in absolute form (``GET http://host/path HTTP/1.1``);
* ``CONNECT host:port``: it answers 200, terminates TLS on the socket with a small self-signed
  certificate for that host alone (chosen by the client's SNI name, minted on first use and
  cached; Scrapy does not verify certificates by default, Chromium runs with its certificate
  errors ignored) and serves the tunnelled requests for that host, keep-alive included;
* plain origin-form requests, routed by their ``Host`` header.

Content lives under ``root`` as ``<root>/<host>/<path>``: ``/`` is ``<host>/index.html``; ``/a/b``
is ``<host>/a/b``, else ``<host>/a/b.html``, else ``<host>/a/b/index.html``. Query strings are
ignored for the lookup. ``<root>/<host>/_routes.json`` maps exact paths to special answers::

    {"/abc": {"status": 301, "headers": {"Location": "https://x/y"}, "body": "text",
              "delay": 1.5, "file": "relative/page.html"}}

Route entries win over files. ``/robots.txt`` falls back to "allow everything"; anything else
missing (unknown path or unknown host) is a 404.

Misbehaving servers, for resilience tests:

* ``"close": true`` closes the connection without answering (a crashed or dead server; the
  client sees the connection drop), after ``"delay"`` seconds if given;
* ``"sequence": [{...}, {...}]`` answers the n-th request for that host and path with the
  n-th entry (each an ordinary route object), then repeats the last entry, or starts over
  with ``"cycle": true``: ``{"/p": {"sequence": [{"status": 503}, {"file": "p.html"}]}}``
  is a page that works on the second try. Counters start at zero when the server starts
  and with ``reset_sequences()``;
* ``"by_query": [{"match": {"pageno": "2"}, "file": "p2.json"}, ...]`` answers with the
  first entry whose ``match`` parameters all appear in the request's query string (a
  search engine's result pages), else with the rest of the route;
* ``"trickle": 1`` sends the body one byte per second (a server that never quite finishes);
* the route key ``"*"`` answers every path of the host that has no route of its own,
  files and ``/robots.txt`` included.

``web.timed_requests`` is the request log with a ``time.monotonic()`` stamp, to measure
the pauses a client makes.

Run it by hand with ``python -m fixtureweb ROOT [--port N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import ipaddress
import json
import logging
import mimetypes
import re
import signal
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

logger = logging.getLogger(__name__)

ROUTES_FILE = "_routes.json"
ANY_PATH = "*"  # the route key that answers every path without a route of its own
MAX_DELAY = 30.0  # seconds: the upper bound of a route's "delay"
IDLE_TIMEOUT = 60.0  # seconds a kept-alive connection may stay silent
STOP_JOIN_TIMEOUT = 5.0  # seconds stop() waits for the connection threads
DEFAULT_ROBOTS = b"User-agent: *\nAllow: /\n"

_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*$")
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    "": "text/html; charset=utf-8",
}
_NO_BODY_STATUSES = frozenset({HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED})


def _not_found_body(host: str, path: str) -> bytes:
    return (
        "<!doctype html><html><head><title>404 Not Found</title></head>"
        f"<body><h1>Not Found</h1><p>fixtureweb has no {_escape(host + path)}</p></body></html>"
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def content_type_for(path: Path) -> str:
    """The Content-Type header value for a served file, chosen by its extension."""
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def normalize_host(value: str) -> str | None:
    """``Host:port`` or ``host`` → a lower-case host name safe to use as a directory name."""
    try:
        host = urlsplit("//" + value.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host if _HOST_RE.match(host) else None


@dataclass(slots=True)
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False
    trickle: float = 0.0  # bytes per second; 0 sends the body at once


class _RouteError(ValueError):
    """A fixture's ``_routes.json`` is malformed: a bug in the fixtures, answered with a 500."""


class _Certificates:
    """One small self-signed certificate per host, minted on first use and cached.

    A single certificate naming every host under ``root`` made each TLS handshake cost the
    client O(hosts) (Scrapy's verify callback parses the whole subjectAltName list), which is
    nothing like a real site's. Every certificate shares one key (made at start-up, never
    written to ``root``); the server picks the certificate by the client's SNI name, else by
    the ``CONNECT`` target.
    """

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._key_pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._contexts)

    def context_for(self, host: str) -> ssl.SSLContext:
        """The server-side TLS context presenting ``host``'s certificate."""
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = self._contexts[host] = self._mint(host)
            return context

    def _mint(self, host: str) -> ssl.SSLContext:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])])
        now = dt.datetime.now(dt.UTC)
        alt_names: list[x509.GeneralName] = [x509.DNSName(host)]
        if host == "localhost":
            alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.set_alpn_protocols(["http/1.1"])
        context.sni_callback = self._pick_by_sni
        # load_cert_chain only reads files: a private temporary directory, removed at once.
        with tempfile.TemporaryDirectory(prefix="fixtureweb-") as tmp:
            cert_file = Path(tmp, "cert.pem")
            key_file = Path(tmp, "key.pem")
            cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            key_file.write_bytes(self._key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context

    def _pick_by_sni(
        self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        """SNI callback: present the certificate of the name the client asked for."""
        host = normalize_host(server_name) if server_name else None
        if host is not None:
            sock.context = self.context_for(host)


class _SocketWriter(io.BufferedIOBase):
    """A write-all file object for the TLS socket (``SocketIO.write`` may write partially)."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        super().__init__()
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return len(data)


class _Server(ThreadingHTTPServer):
    """Tracks each connection's thread and current socket so ``stop()`` can end them all."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], web: FixtureWeb) -> None:
        self.web = web
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"fixtureweb-{client_address[1]}",
            daemon=True,
        )
        with self._lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            logger.debug("fixtureweb: error on connection from %s", client_address, exc_info=True)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def track(self, sock: socket.socket) -> None:
        """The current thread's connection now speaks through ``sock`` (its TLS wrapper)."""
        with self._lock:
            self._connections[threading.current_thread()] = sock

    def close_connections(self) -> None:
        with self._lock:
            connections = dict(self._connections)
        for sock in connections.values():
            # The plain socket method: SSLSocket.shutdown would race the reading thread.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        for thread in connections:
            thread.join(STOP_JOIN_TIMEOUT)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The base class prints a traceback to stderr; this server stays quiet by default.
        logger.debug("fixtureweb: error on connection from %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Errors on unparsable request lines still get a status line (HTTP/0.9 would send none).
    default_request_version = "HTTP/1.0"
    server_version = "fixtureweb/1.0"
    timeout = IDLE_TIMEOUT
    # Unbuffered until TLS starts: a buffered reader could swallow the client's TLS hello.
    rbufsize = 0
    server: _Server

    def setup(self) -> None:
        super().setup()
        self._tunnel_host: str | None = None
        self._tls_sock: ssl.SSLSocket | None = None

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ssl.SSLError, ValueError) as exc:
            logger.debug("fixtureweb: connection from %s ended: %r", self.client_address, exc)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._tls_sock is not None:
            with contextlib.suppress(OSError):
                self._tls_sock.close()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fixtureweb %s: %s", self.address_string(), format % args)

    # -- methods -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_CONNECT(self) -> None:
        host = normalize_host(self.path) if re.search(r":\d{1,5}$", self.path) else None
        if self._tunnel_host is not None or host is None:
            self._reply(_Answer(HTTPStatus.BAD_REQUEST, b"bad CONNECT target\n"), head=False)
            self.close_connection = True
            return
        self.server.web.record_tunnel(host)
        self.send_response(HTTPStatus.OK, "Connection established")
        self.end_headers()
        self.wfile.flush()
        tls = self.server.web.certificates.context_for(host).wrap_socket(
            self.connection, server_side=True, do_handshake_on_connect=False
        )
        # Tracked before the handshake, so stop() can also end a client that never sends one.
        self.server.track(tls)
        self._tls_sock = tls
        self.rfile.close()
        try:
            tls.do_handshake()
        except (OSError, ssl.SSLError) as exc:
            logger.debug("fixtureweb: TLS handshake for %s failed: %r", host, exc)
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = _SocketWriter(tls)
        self._tunnel_host = host
        self.close_connection = False

    # -- serving -------------------------------------------------------------------------

    def _target(self) -> tuple[str | None, str]:
        """(host, path with query) of the request, whichever form it came in."""
        raw = self.path
        host: str | None = None
        if raw.startswith(("http://", "https://")):
            parts = urlsplit(raw)
            host = normalize_host(parts.netloc)
            raw = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        elif self._tunnel_host is None:
            host = normalize_host(self.headers.get("Host", ""))
        if self._tunnel_host is not None:
            host = self._tunnel_host
        return host, raw if raw.startswith("/") else "/" + raw

    def _serve(self) -> None:
        head = self.command == "HEAD"
        host, path_with_query = self._target()
        web = self.server.web
        web.record(self.command, host or "", path_with_query)
        if host is None:
            self._reply(_Answer(HTTPStatus.BAD_REQUEST, b"no usable host\n"), head=head)
            return
        try:
            path, _, query = path_with_query.partition("?")
            answer = web.answer(host, path, query)
        except _RouteError as exc:
            logger.error("fixtureweb: %s", exc)
            answer = _Answer(HTTPStatus.INTERNAL_SERVER_ERROR, f"{exc}\n".encode())
        except Exception:
            logger.exception("fixtureweb: failed to answer %s %s", host, path_with_query)
            answer = _Answer(HTTPStatus.INTERNAL_SERVER_ERROR, b"fixtureweb error\n")
        if answer.delay > 0 and web.stopping.wait(answer.delay):
            self.close_connection = True
            return
        if answer.close:
            # Nothing is written: the client sees the connection end without a response.
            self.close_connection = True
            return
        self._reply(answer, head=head)

    def _reply(self, answer: _Answer, *, head: bool) -> None:
        self.send_response(answer.status)
        names = {name.lower() for name in answer.headers}
        for name, value in answer.headers.items():
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        if answer.status not in _NO_BODY_STATUSES:
            if "content-type" not in names:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and answer.status not in _NO_BODY_STATUSES:
            if answer.trickle <= 0:
                self.wfile.write(answer.body)
                return
            for index in range(len(answer.body)):  # a server that never quite finishes
                self.wfile.write(answer.body[index : index + 1])
                self.wfile.flush()
                time.sleep(1 / answer.trickle)


class FixtureWeb:
    """A forward proxy on ``host:port`` serving the pages saved under ``root``.

    ``with FixtureWeb(root) as web:`` starts it on a free port; pass ``web.proxy_env()`` to a
    subprocess (or set ``http_proxy``/``https_proxy``) to send its traffic here.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
        self.host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._requests: list[tuple[float, str, str, str]] = []
        self._tunnels: list[str] = []  # CONNECT targets, answered or not
        self._sequence_lock = threading.Lock()
        self._sequence_counts: dict[tuple[str, str], int] = {}
        self.stopping = threading.Event()
        self.certificates: _Certificates

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FixtureWeb:
        if self._server is not None:
            raise RuntimeError("FixtureWeb is already running")
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture root {self.root} is not a directory")
        self.certificates = _Certificates()
        self.reset_sequences()
        self.stopping.clear()
        self._server = _Server((self.host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fixtureweb",
            daemon=True,
        )
        self._thread.start()
        logger.info("fixtureweb: serving %s as a proxy on %s", self.root, self.proxy_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(STOP_JOIN_TIMEOUT)
            self._thread = None

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FixtureWeb is not running")
        return int(self._server.server_address[1])

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def proxy_env(self) -> dict[str, str]:
        """Environment variables that send a process's HTTP(S) traffic through this proxy."""
        url = self.proxy_url
        return {
            "http_proxy": url,
            "https_proxy": url,
            "HTTP_PROXY": url,
            "HTTPS_PROXY": url,
            "no_proxy": "",
            "NO_PROXY": "",
        }

    # -- request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """A snapshot of the ``(method, host, path_with_query)`` requests answered so far."""
        with self._log_lock:
            return [entry[1:] for entry in self._requests]

    @property
    def timed_requests(self) -> list[tuple[float, str, str, str]]:
        """Like ``requests``, each entry led by its ``time.monotonic()`` arrival time."""
        with self._log_lock:
            return list(self._requests)

    @property
    def tunnels(self) -> list[str]:
        """The hosts clients opened a ``CONNECT`` tunnel to (a TLS client that then refuses
        the certificate never sends a request, but it still shows here)."""
        with self._log_lock:
            return list(self._tunnels)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()
            self._tunnels.clear()

    def record_tunnel(self, host: str) -> None:
        with self._log_lock:
            self._tunnels.append(host)

    def record(self, method: str, host: str, path_with_query: str) -> None:
        with self._log_lock:
            self._requests.append((time.monotonic(), method, host, path_with_query))

    def reset_sequences(self) -> None:
        """Start every ``"sequence"`` route over from its first entry."""
        with self._sequence_lock:
            self._sequence_counts.clear()

    # -- content -------------------------------------------------------------------------

    def answer(self, host: str, path: str, query: str = "") -> _Answer:
        """What to send for ``path`` (and its ``query`` string, for ``by_query`` routes)."""
        host_dir = self.root / host
        if not host_dir.is_dir():
            return _Answer(HTTPStatus.NOT_FOUND, _not_found_body(host, path))
        routes = self._routes(host_dir)
        route = routes.get(path, routes.get(ANY_PATH))
        if route is not None:
            return self._route_answer(host_dir, path, self._by_query(route, query))
        found = self._find_file(host_dir, path)
        if found is not None:
            return _Answer(
                HTTPStatus.OK, found.read_bytes(), {"Content-Type": content_type_for(found)}
            )
        if path == "/robots.txt":
            return _Answer(
                HTTPStatus.OK, DEFAULT_ROBOTS, {"Content-Type": "text/plain; charset=utf-8"}
            )
        return _Answer(HTTPStatus.NOT_FOUND, _not_found_body(host, path))

    @staticmethod
    def _routes(host_dir: Path) -> Mapping[str, Any]:
        routes_file = host_dir / ROUTES_FILE
        if not routes_file.is_file():
            return {}
        try:
            routes = json.loads(routes_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise _RouteError(f"{routes_file}: {exc}") from exc
        if not isinstance(routes, dict):
            raise _RouteError(f"{routes_file}: expected an object keyed by path")
        return routes

    @staticmethod
    def _by_query(route: Any, query: str) -> Any:
        """The ``by_query`` entry whose ``match`` parameters the query has, else the route."""
        if not isinstance(route, dict) or "by_query" not in route:
            return route
        params = dict(parse_qsl(query, keep_blank_values=True))
        for entry in route["by_query"]:
            wanted = entry.get("match", {}) if isinstance(entry, dict) else None
            if isinstance(wanted, dict) and all(
                params.get(str(k)) == str(v) for k, v in wanted.items()
            ):
                return {k: v for k, v in entry.items() if k != "match"}
        return {k: v for k, v in route.items() if k != "by_query"}

    def _route_answer(self, host_dir: Path, path: str, route: Any) -> _Answer:
        where = f"{host_dir / ROUTES_FILE} {path!r}"
        if not isinstance(route, dict):
            raise _RouteError(f"{where}: expected an object")
        if "sequence" in route:
            route = self._sequence_step(host_dir.name, path, route, where)
        status = route.get("status", 200)
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise _RouteError(f"{where}: status must be an integer in 200..599")
        headers_in = route.get("headers", {})
        if not isinstance(headers_in, dict):
            raise _RouteError(f"{where}: headers must be an object")
        headers = {str(k): str(v) for k, v in headers_in.items()}
        try:
            delay = min(max(float(route.get("delay", 0)), 0.0), MAX_DELAY)
        except (TypeError, ValueError) as exc:
            raise _RouteError(f"{where}: delay must be a number of seconds") from exc
        if route.get("close") is True:
            return _Answer(status, delay=delay, close=True)
        body = b""
        if "file" in route:
            file = self._safe_path(host_dir, str(route["file"]).lstrip("/"))
            if file is None or not file.is_file():
                raise _RouteError(f"{where}: file {route['file']!r} not found")
            body = file.read_bytes()
            headers.setdefault("Content-Type", content_type_for(file))
        elif "body" in route:
            body = str(route["body"]).encode()
        if path == "/robots.txt":
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        try:
            trickle = max(float(route.get("trickle", 0)), 0.0)
        except (TypeError, ValueError) as exc:
            raise _RouteError(f"{where}: trickle must be bytes per second") from exc
        return _Answer(status, body, headers, delay, trickle=trickle)

    def _sequence_step(self, host: str, path: str, route: dict[str, Any], where: str) -> Any:
        """The entry of a ``"sequence"`` route for this request, counted per host and path."""
        steps = route["sequence"]
        if not isinstance(steps, list) or not steps:
            raise _RouteError(f"{where}: sequence must be a non-empty list of routes")
        with self._sequence_lock:
            count = self._sequence_counts.get((host, path), 0)
            self._sequence_counts[(host, path)] = count + 1
        index = count % len(steps) if route.get("cycle") is True else min(count, len(steps) - 1)
        step = steps[index]
        if not isinstance(step, dict) or "sequence" in step:
            raise _RouteError(f"{where}: sequence entries must be routes without a sequence")
        return step

    @classmethod
    def _find_file(cls, host_dir: Path, path: str) -> Path | None:
        rel = "/".join(s for s in unquote(path).split("/") if s)
        if path.endswith("/") or not rel:
            candidates = [f"{rel}/index.html" if rel else "index.html"]
        else:
            candidates = [rel, f"{rel}.html", f"{rel}/index.html"]
        for candidate in candidates:
            if candidate == ROUTES_FILE:
                continue
            file = cls._safe_path(host_dir, candidate)
            if file is not None and file.is_file():
                return file
        return None

    @staticmethod
    def _safe_path(host_dir: Path, rel: str) -> Path | None:
        """``host_dir/rel`` unless it escapes ``host_dir`` (``..``, absolute, symlinks)."""
        if any(part in {"..", "."} or "\\" in part or "\x00" in part for part in rel.split("/")):
            return None
        file = (host_dir / rel).resolve()
        return file if file.is_relative_to(host_dir.resolve()) else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m fixtureweb",
        description="Serve saved pages as a local HTTP(S) forward proxy.",
    )
    parser.add_argument("root", type=Path, help="directory holding <host>/<path> files")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    with FixtureWeb(args.root, host=args.host, port=args.port) as web:
        signal.signal(signal.SIGTERM, lambda _signum, _frame: web.stopping.set())
        print(web.proxy_url, flush=True)
        print(f"export http_proxy={web.proxy_url} https_proxy={web.proxy_url}", flush=True)
        try:
            while not web.stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            logger.info("fixtureweb: stopping")


if __name__ == "__main__":
    main()
