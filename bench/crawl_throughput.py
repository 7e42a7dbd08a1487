"""Crawl throughput: the full project against a bare Scrapy spider, side by side in one run.

    .venv/bin/python bench/crawl_throughput.py --producers 1000
    .venv/bin/python bench/crawl_throughput.py --producers 1000 --profile bench/profile-1k

N synthetic producers (tests/support/synthetic_web.py: a checkout, and a sales link that
redirects to a two-page site with the contact page) are served by the fixture web. Both
crawls go through it as a forward proxy; politeness is off (no AutoThrottle, no delays, no
per-source slots), concurrency 16. The project runs every stage, on a fresh PostgreSQL
database, with MX checks against a local dnsmasq that knows every producer's domain. The
bare spider (bench/bare_spider.py) fetches the same pages and yields nothing.

Reported per crawl: responses, the crawl's own elapsed time (Scrapy's stats, start-up
excluded), responses/s, and peak RSS (``/usr/bin/time``). For the project also the MX
queries dnsmasq saw per distinct e-mail domain. With ``--profile DIR``, the project crawl
runs under py-spy (threads included) and the top frames by own time are printed.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from fixtureweb import FixtureWeb  # noqa: E402
from tests.support.dnsserver import local_zone, running_dnsmasq  # noqa: E402
from tests.support.synthetic_web import write_producers  # noqa: E402

POLITENESS_OFF = [
    "AUTOTHROTTLE_ENABLED=False",
    "DOWNLOAD_DELAY=0",
    "DOWNLOAD_SLOTS={}",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "LOG_LEVEL=INFO",
]


def stat(log: str, key: str) -> float:
    match = re.search(rf"'{re.escape(key)}': ([0-9.]+)", log)
    return float(match.group(1)) if match else 0.0


def run(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict[str, float]:
    rss_file = log.with_suffix(".rss")
    timed = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss_file), *command]
    with log.open("wb") as err:
        subprocess.run(timed, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, check=True)
    text_log = log.read_text("utf-8", "replace")
    responses = stat(text_log, "downloader/response_count")
    elapsed = stat(text_log, "elapsed_time_seconds")
    rss_kib, user, system = rss_file.read_text().split()[-3:]
    cpu = float(user) + float(system)  # the whole process, start-up included
    return {
        "responses": responses,
        "elapsed": elapsed,
        "rate": responses / elapsed if elapsed else 0.0,
        "rss_mib": int(rss_kib) / 1024,
        "items": stat(text_log, "item_scraped_count"),
        "cpu": cpu,
        "cpu_rate": responses / cpu if cpu else 0.0,
    }


def zone(count: int) -> str:
    """An MX for every producer's domain, and an address for its mail exchanger."""
    domains = [f"produtor{i}.com.br" for i in range(count)]
    hosts = [f"host-record=mx.{d},192.0.2.{i % 250 + 1}" for i, d in enumerate(domains)]
    return local_zone(domains, ttl=300, extra=hosts)


def profile_summary(raw: Path, top: int = 30) -> str:
    """The reactor thread's frames by inclusive share of its samples (a frame counted once per
    sample however deep it recurs), then by own time; the start-up imports are left out."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or "MainThread" not in frames[0]:
            continue
        if any("scrapy/cmdline.py:18" in f for f in frames) and not any(
            "crawler.py" in f for f in frames
        ):
            continue  # imports and settings before the crawl starts
        n = int(count)
        total += n
        own[frames[-1]] += n
        for name in {f.rsplit(":", 1)[0] + ")" for f in frames[1:]}:
            inclusive[name] += n
    if not total:
        return "no MainThread samples"
    lines = [f"MainThread: {total} samples ({total / 50:.0f} s at 50 Hz); inclusive:"]
    lines += [f"{100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("own time:")
    lines += [f"{100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top // 2)]
    return "\n".join(lines)


def under_py_spy(command: list[str], raw: Path) -> list[str]:
    """``command`` run under py-spy, every thread sampled at 50 Hz, raw stacks in ``raw``."""
    raw.parent.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).parent / "py-spy")
    options = ["--format", "raw", "--rate", "50", "--threads", "-o", str(raw)]
    return [py_spy, "record", *options, "--", *command]


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--producers", type=int, default=1000)
    parser.add_argument("--pg", default="postgresql+psycopg2://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--profile", type=Path, help="run the crawls under py-spy, raw stacks in this folder"
    )
    parser.add_argument("--skip-bare", action="store_true", help="run the project crawl only")
    parser.add_argument("--skip-project", action="store_true", help="run the bare spider only")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more Scrapy setting for the project crawl (repeatable)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    producers = write_producers(work / "web", args.producers)
    urls = [p.checkout_url for p in producers] + [p.sales_link for p in producers]
    urls_file = work / "urls.txt"
    urls_file.write_text("\n".join(urls), "utf-8")
    db = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{args.pg}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    results = {}
    loads = [load_average()]
    mx = 0
    try:
        with (
            FixtureWeb(work / "web") as web,
            running_dnsmasq(work, zone(args.producers), "mx.produtor0.com.br") as dns,
        ):
            env = {**os.environ, **web.proxy_env(), "DATABASE_URL": f"{args.pg}/{db}"}
            env.pop("SCRAPY_SETTINGS_MODULE", None)
            env.pop("SCRAPY_PROJECT", None)
            if not args.skip_bare:
                bare_env = {k: v for k, v in env.items() if k != "DATABASE_URL"}
                command = [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "runspider",
                    str(ROOT / "bench" / "bare_spider.py"),
                    "-a",
                    f"urls_file={urls_file}",
                ]
                for setting in (
                    *POLITENESS_OFF,
                    "ROBOTSTXT_OBEY=False",
                    "TELNETCONSOLE_ENABLED=False",
                ):
                    command += ["-s", setting]
                if args.profile:
                    command = under_py_spy(command, args.profile / "bare.txt")
                results["bare Scrapy"] = run(command, bare_env, work, work / "bare.log")
                loads.append(load_average())
            if not args.skip_project:
                command = [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "crawl",
                    "kiwify",
                    "-a",
                    f"urls_file={urls_file}",
                ]
                for setting in (
                    *POLITENESS_OFF,
                    "ENRICH_DNS_ENABLED=True",
                    f"ENRICH_DNS_NAMESERVERS={dns.address}",
                    f"PERSIST_SPILL_DIR={work / 'unsaved'}",
                    *args.set,
                ):
                    command += ["-s", setting]
                if args.profile:
                    command = under_py_spy(command, args.profile / "project.txt")
                results["leadcrawler"] = run(command, env, ROOT, work / "project.log")
                loads.append(load_average())
                mx = sum("query[MX]" in line for line in dns.log.read_text().splitlines())
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()

    print(f"{args.producers} producers, {len(urls)} start URLs; work dir {work}")
    print(f"load average (1/5/15 min) at start and after each crawl: {' → '.join(loads)}")
    print(
        "| crawl | responses | elapsed | responses/s | CPU | responses/CPU-s | items | peak RSS |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['responses']:.0f} | {r['elapsed']:.1f} s | {r['rate']:.1f} |"
            f" {r['cpu']:.1f} s | {r['cpu_rate']:.1f} | {r['items']:.0f} | {r['rss_mib']:.0f} MiB |"
        )
    if len(results) == 2:
        ratio = results["leadcrawler"]["rate"] / results["bare Scrapy"]["rate"]
        print(f"ratio (project / bare responses per second): {ratio:.2f}")
        cpu_ratio = results["leadcrawler"]["cpu_rate"] / results["bare Scrapy"]["cpu_rate"]
        print(
            f"ratio (project / bare responses per CPU-second of the crawl process): {cpu_ratio:.2f}"
        )
        work_ratio = results["bare Scrapy"]["elapsed"] / results["leadcrawler"]["elapsed"]
        print(f"ratio (bare / project time for the same producers): {work_ratio:.2f}")
    if "leadcrawler" in results:
        print(f"MX queries per distinct e-mail domain: {mx / args.producers:.2f}")
    if args.profile:
        for name in ("bare", "project"):
            if (args.profile / f"{name}.txt").exists():
                print(f"--- profile of the {name} crawl")
                print(profile_summary(args.profile / f"{name}.txt"))


if __name__ == "__main__":
    main()
