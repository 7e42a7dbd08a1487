"""A real DNS server for tests: dnsmasq on 127.0.0.1 with the records a test needs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from tests.conftest import service_missing

DNSMASQ = (
    os.environ.get("LEADCRAWLER_TEST_DNSMASQ") or shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
)


@dataclass
class DnsServer:
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def logged(self, name: str, rdtype: str = "MX") -> int:
        """How many times dnsmasq was asked ``name`` ``rdtype``."""
        needle = f"query[{rdtype}] {name} from"
        return sum(needle in line for line in self.log.read_text().splitlines())


def free_port() -> int:
    """A port free for both UDP and TCP (dnsmasq listens on both)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
    ):
        udp.bind(("127.0.0.1", 0))
        port = int(udp.getsockname()[1])
        tcp.bind(("127.0.0.1", port))
        return port


def answers(port: int, probe: str) -> bool:
    query = dns.message.make_query(probe, "MX")
    try:
        response = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.2)
    except (OSError, dns.exception.Timeout):
        return False
    return response.rcode() == dns.rcode.NOERROR


def local_zone(mail_domains: Iterable[str], ttl: int = 3600, extra: Iterable[str] = ()) -> str:
    """dnsmasq answering alone (nothing forwarded, every query logged): an MX for each of
    ``mail_domains`` (``mx.<domain>``), then the ``extra`` configuration lines."""
    lines = [
        "listen-address=127.0.0.1", "bind-interfaces", "no-resolv", "no-hosts", "pid-file=",
        "log-queries", f"local-ttl={ttl}", "local=/com.br/",
    ]  # fmt: skip
    lines += [f"mx-host={domain},mx.{domain},10" for domain in mail_domains]
    return "\n".join([*lines, *extra]) + "\n"


@contextmanager
def running_dnsmasq(directory: Path, config: str, probe: str) -> Iterator[DnsServer]:
    """dnsmasq serving ``config`` until the block ends; ``probe`` is a name it answers."""
    if not Path(DNSMASQ).is_file():
        service_missing(f"dnsmasq ({DNSMASQ})")
    last_error = ""
    for _attempt in range(5):  # the free port may be taken before dnsmasq binds it
        port = free_port()
        log = directory / f"queries-{port}.log"
        conf = directory / f"dnsmasq-{port}.conf"
        conf.write_text(f"port={port}\nlog-facility={log}\n{config}")
        process = subprocess.Popen(
            [DNSMASQ, "--keep-in-foreground", f"--conf-file={conf}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 5
        while process.poll() is None and time.monotonic() < deadline and not answers(port, probe):
            time.sleep(0.05)
        if process.poll() is None and answers(port, probe):
            break
        process.kill()
        _out, err = process.communicate()
        last_error = err.decode(errors="replace").strip()
    else:
        service_missing(f"dnsmasq could not start: {last_error}")
    try:
        yield DnsServer(port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
