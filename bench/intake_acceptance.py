"""Issue 10's acceptance run: a messy list of N people into a fresh PostgreSQL database.

    .venv/bin/python bench/intake_acceptance.py --people 50000
    .venv/bin/python bench/intake_acceptance.py --people 50000 --domain-per-person  # worst case
    .venv/bin/python bench/intake_acceptance.py --people 50000 -s INTAKE_WORKERS=1

The list (tests/support/lists.py): cp1252, ';', pt-BR headers, a third of the people written
twice (upper-case e-mail, phone in E.164 instead of "(11) 9xxxx-xxxx"), one in ten a third
time with a note spanning two lines, and about one row in twelve of garbage (no contact,
invalid values, formula- and SQL-looking cells, a few 100 KB cells). E-mail domains as a
real list has them: six people in ten on a webmail provider (gmail.com, hotmail.com...), the
others two to a company domain (N/5 distinct domains); `--domain-per-person` gives every person
their own domain (N MX questions, the worst case). `leadcrawler enrich LIST --skip-sites` runs
as a new user would (DNS on, against a local dnsmasq that knows every domain), then the base
and the rejects file are checked: exactly one lead per person, every garbage line rejected,
nothing else. Prints rows/s (wall, the CLI's own figure), the child's CPU time and peak RSS,
and the CPU of dnsmasq and of the PostgreSQL server (all of the server's processes: run it on a
quiet machine).

Run by hand; results go in bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake import (  # noqa: E402
    cpu_seconds,
    enrich_command,
    fresh_database,
    postgres_cpu,
    timed_child,
)

from leadcrawler.storage.models import LeadRow  # noqa: E402
from tests.support.dnsserver import local_zone, running_dnsmasq  # noqa: E402
from tests.support.lists import email_domain, messy_list  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432")
    parser.add_argument("-s", "--set", action="append", default=[], help="extra enrich settings")
    parser.add_argument(
        "--domain-per-person",
        action="store_true",
        help="every person their own e-mail domain (the worst case for MX checks)",
    )
    parser.add_argument("--profile", help="py-spy raw stacks of the import (and its workers) here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "lista compradores.csv"
        mix = not args.domain_per_person
        garbage, rows = messy_list(listing, args.people, mix=mix)
        domains = sorted({email_domain(n, mix) for n in range(args.people)})
        size = listing.stat().st_size / 1e6
        print(
            f"{rows} rows ({size:.1f} MB), {args.people} people, {len(domains)} e-mail "
            f"domains, {len(garbage)} garbage rows"
        )
        with (
            running_dnsmasq(Path(tmp), local_zone(domains), domains[0]) as dns,
            fresh_database(args.server) as url,
        ):
            env = {**os.environ, "SCRAPY_PROJECT": "default"}  # a user's settings
            env.pop("SCRAPY_SETTINGS_MODULE", None)
            command = enrich_command(listing, url, dns.address, Path(tmp), args.set)
            if args.profile:
                spy = str(Path(sys.executable).parent / "py-spy")
                command = [spy, "record", "--subprocesses", "--format", "raw", "-o", args.profile,
                           "--", *command]  # fmt: skip
            started = time.monotonic()
            server_before = cpu_seconds(f"dnsmasq-{dns.port}.conf")
            postgres_before = postgres_cpu()
            seconds, rss, out = timed_child(command, env)
            server_cpu = cpu_seconds(f"dnsmasq-{dns.port}.conf") - server_before
            postgres = postgres_cpu() - postgres_before
            questions = sum("query[MX]" in line for line in dns.log.read_text().splitlines())
            print(out.rstrip())
            print(
                f"MX questions: {questions} for {len(domains)} distinct domains; "
                f"dnsmasq CPU {server_cpu:.1f} s, PostgreSQL CPU {postgres:.1f} s"
            )
            print(
                f"wall {seconds:.1f} s: {rows / seconds:,.0f} rows/s end to end "
                f"(process start included), peak RSS {rss:.0f} MiB, "
                f"load {os.getloadavg()[0]:.1f}, {time.monotonic() - started:.0f} s in all"
            )
            engine = create_engine(url)
            with engine.connect() as conn:
                leads = conn.scalar(select(func.count()).select_from(LeadRow))
                emails = conn.scalar(
                    text("SELECT count(DISTINCT lead_id) FROM contacts WHERE kind = 'email'")
                )
            engine.dispose()
        rejects = listing.with_name(f"{listing.stem}.rejects.csv")
        with rejects.open(encoding="utf-8") as handle:
            rejected = {int(r["line"]) for r in csv.DictReader(handle)}
    ok = leads == args.people and emails == args.people and rejected == garbage
    print(
        f"leads {leads} for {args.people} people; garbage rejected {len(rejected & garbage)} "
        f"of {len(garbage)}, other rows rejected {len(rejected - garbage)}: "
        + ("OK" if ok else "WRONG")
    )
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
