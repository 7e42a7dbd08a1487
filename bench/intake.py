"""Benchmark: `leadcrawler enrich` of a raw list into PostgreSQL, side by side in one run.

    .venv/bin/python bench/intake.py --rows 10000 100000 [--server postgresql+psycopg2://postgres@127.0.0.1:5432]
    .venv/bin/python bench/intake.py --rows 5000 --profile /tmp/intake.svg   # py-spy flame graph

For each size, on a fresh PostgreSQL database and one synthetic list (bench/make_list.py:
pt-BR headers, ';', 2,000 e-mail domains, one row in ten a duplicate written differently):

1. `leadcrawler enrich LIST --skip-sites` as a child process, MX checks on, asking a local
   dnsmasq that knows every domain (one query per distinct domain is expected: counted in
   dnsmasq's log); wall time, rows/s and the child's peak RSS;
2. a bare Scrapy spider yielding the same rows into a no-op pipeline (bench/bare_items_spider.py);
3. `COPY` of the same rows into a plain table.

Run by hand; results go in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from make_list import write_list  # noqa: E402

from tests.support.dnsserver import local_zone, running_dnsmasq  # noqa: E402

DOMAINS = 2000


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    admin = create_engine(f"{server}/test", isolation_level="AUTOCOMMIT")
    name = f"bench_intake_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed_child(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process (CPU seconds printed)."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{'':>8} (child CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f})")
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({process.returncode}):\n{out}")
    return seconds, usage.ru_maxrss / 1024, out


def dns_zone(domains: int) -> str:
    """An MX for empresa0..N-1.com.br, the list generators' company domains."""
    return local_zone(f"empresa{i}.com.br" for i in range(domains))


def _stat(proc: Path) -> list[str]:
    """``/proc/PID/stat``'s fields after the command name: [1] is the parent's pid, [11] and
    [12] user and system ticks, [13] and [14] those of the reaped children."""
    return (proc / "stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pattern: str) -> float:
    """User + system CPU seconds of the process whose command line contains ``pattern``."""
    for proc in Path("/proc").iterdir():
        try:
            if pattern in (proc / "cmdline").read_bytes().decode(errors="replace"):
                fields = _stat(proc)
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return 0.0


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server so far: every live ``postgres`` process, plus the
    postmaster's reaped children (backends that have exited)."""
    ticks = 0
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = _stat(proc)
            ticks += int(fields[11]) + int(fields[12])
            parent = (Path("/proc") / fields[1] / "comm").read_text().strip()
            if parent != "postgres":
                ticks += int(fields[13]) + int(fields[14])  # the postmaster: its reaped backends
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def enrich_command(
    listing: Path, url: str, nameserver: str, scratch: Path, settings: list[str]
) -> list[str]:
    """`leadcrawler enrich LIST --skip-sites` as a user runs it, MX checks on a local dnsmasq."""
    command = [
        sys.executable, "-m", "leadcrawler.cli", "enrich", str(listing),
        "--database-url", url, "--skip-sites",
        "-s", f"ENRICH_DNS_NAMESERVERS={nameserver}",
        "-s", f"PERSIST_SPILL_DIR={scratch}/unsaved",
    ]  # fmt: skip
    for item in settings:
        command += ["-s", item]
    return command


def copy_rows(url: str, path: Path) -> float:
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE raw_rows (nome text, email text, telefone text, empresa text)"
            )
            started = time.monotonic()
            with path.open(encoding="utf-8") as handle:
                cursor.copy_expert(
                    "COPY raw_rows FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)",
                    handle,
                )
            connection.commit()
            return time.monotonic() - started
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--profile", help="write a py-spy flame graph of the import here (.svg; .txt: raw stacks)"
    )
    parser.add_argument("-s", "--set", action="append", default=[], help="extra enrich settings")
    parser.add_argument("--skip-bare", action="store_true", help="the import only")
    args = parser.parse_args()
    zone = dns_zone(DOMAINS)
    env = {**os.environ, "SCRAPY_PROJECT": "default"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    print(f"{'rows':>8} {'what':<28} {'seconds':>8} {'rows/s':>8} {'peak RSS':>9}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_dnsmasq(Path(tmp), zone, "empresa0.com.br") as dns,
    ):
        for count in args.rows:
            listing = Path(tmp) / f"list-{count}.csv"
            write_list(count, listing, DOMAINS)
            with fresh_database(args.server) as url:
                command = enrich_command(listing, url, dns.address, Path(tmp), args.set)
                if args.profile:
                    command = [
                        str(Path(sys.executable).parent / "py-spy"), "record", "-o", args.profile,
                        "--subprocesses",
                        *(["--format", "raw"] if args.profile.endswith(".txt") else []),
                        "--", *command,
                    ]  # fmt: skip
                before = sum(1 for _ in dns.log.read_text().splitlines())
                server_before = postgres_cpu()
                seconds, rss, out = timed_child(command, env)
                server = postgres_cpu() - server_before
                lines = dns.log.read_text().splitlines()[before:]
                queries = sum("query[MX]" in line for line in lines)
                print(
                    f"{count:>8} {'leadcrawler enrich':<28} {seconds:>8.1f} "
                    f"{count / seconds:>8.0f} {rss:>7.0f} MiB"
                )
                print(f"{'':>8} MX queries: {queries} for {min(count, DOMAINS)} domains")
                print(f"{'':>8} PostgreSQL server CPU during the import: {server:.1f} s")
                for line in out.splitlines()[1:]:
                    print(f"{'':>8} {line.strip()}")
                if args.skip_bare:
                    continue
                bare_seconds, bare_rss, _ = timed_child(
                    [sys.executable, "-m", "scrapy", "runspider", "bench/bare_items_spider.py",
                     "-a", f"file={listing}", "-s", "LOG_LEVEL=ERROR"],
                    env,
                )  # fmt: skip
                print(
                    f"{count:>8} {'bare Scrapy, no-op pipeline':<28} {bare_seconds:>8.1f} "
                    f"{count / bare_seconds:>8.0f} {bare_rss:>7.0f} MiB"
                )
                copy_seconds = copy_rows(url, listing)
                print(
                    f"{count:>8} {'COPY into PostgreSQL':<28} {copy_seconds:>8.1f} "
                    f"{count / copy_seconds:>8.0f}"
                )
                print(
                    f"{'':>8} ratios: enrich/bare = {bare_seconds / seconds:.2f}, "
                    f"enrich/COPY = {copy_seconds / seconds:.3f}"
                )


if __name__ == "__main__":
    main()
