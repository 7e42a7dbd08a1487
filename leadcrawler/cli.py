"""The ``leadcrawler`` command line, for operators and analysts.

  leadcrawler demo       crawl the bundled sample pages through the local fixture web
  leadcrawler leads      list the leads in the historical base, in priority order
  leadcrawler export     write the leads to CSV or JSON Lines, in priority order
  leadcrawler dedupe     re-link the whole base after identity rules change (--rebuild)
  leadcrawler enrich     import a raw list (FILE), or retry failed enrichment (--retry-failed)
  leadcrawler migrate    bring the base's schema up to date
  leadcrawler rescore    re-score every lead after editing settings/qualification.toml
  leadcrawler serve      the enricher's HTTP API (raw leads in, leads and runs out)

The base is ``DATABASE_URL`` from the Scrapy settings (environment or ``--database-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from scrapy.settings import Settings
from scrapy.utils.conf import closest_scrapy_cfg
from scrapy.utils.project import get_project_settings

from leadcrawler.domain.scoring import Rules, RulesError
from leadcrawler.enricher import Chain, ConfigError, MemoryStats
from leadcrawler.enricher.dns import DnsConfig, MxResult
from leadcrawler.enricher.enrich import mx_facts
from leadcrawler.storage import readmodel
from leadcrawler.storage.export import CSV_DIALECTS, PHONE_FORMATS, export
from leadcrawler.storage.readmodel import StoredLead
from leadcrawler.storage.repository import LeadFilter, LeadStore
from leadcrawler.storage.store import open_store

logger = logging.getLogger(__name__)

DEMO_DATABASE_URL = "sqlite:///data/demo.sqlite3"


def project_settings(database_url: str | None = None) -> Settings:
    """The project's Scrapy settings, from scrapy.cfg or, outside a checkout, ``settings.base``."""
    if not os.environ.get("SCRAPY_SETTINGS_MODULE") and not closest_scrapy_cfg():
        os.environ["SCRAPY_SETTINGS_MODULE"] = "settings.base"
    settings = get_project_settings()
    if database_url:
        settings.set("DATABASE_URL", database_url, priority="cmdline")
    return settings


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from fixtureweb import FixtureWeb

    demo = resources.files("leadcrawler.demo")
    pages = Path(str(demo.joinpath("pages")))
    urls_file = Path(str(demo.joinpath("urls.txt")))
    settings = project_settings(args.database_url)
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    # The demo is offline by design: its e-mail domains exist nowhere, so no DNS is asked.
    settings.set("ENRICH_DNS_ENABLED", False, priority="cmdline")
    with FixtureWeb(pages) as web:
        # The fixture web answers as the real hosts; Scrapy reaches it as a proxy.
        os.environ.update(web.proxy_env())
        print(f"Fixture web on {web.proxy_url}; crawling {urls_file}", file=out)
        stats = run_spider(settings, "kiwify", urls_file=str(urls_file))
    print(
        f"Crawl finished: {stats.get('item_scraped_count', 0)} lead sighting(s), "
        f"{stats.get('leadcrawler/persist/created', 0)} new lead(s) stored in "
        f"{settings['DATABASE_URL']}",
        file=out,
    )
    return print_leads(settings["DATABASE_URL"], out, limit=args.limit)


def run_spider(settings: Settings, name: str, **arguments: Any) -> dict[str, Any]:
    """Run one spider in this process (Scrapy's log handler, at LOG_LEVEL); its final stats."""
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(name)
    process.crawl(crawler, **arguments)
    process.start()
    return crawler.stats.get_stats() if crawler.stats else {}


def cmd_leads(args: argparse.Namespace, out: TextIO) -> int:
    settings = project_settings(args.database_url)
    return print_leads(settings["DATABASE_URL"], out, limit=args.limit)


def print_leads(database_url: str, out: TextIO, limit: int) -> int:
    store = open_store(database_url)
    try:
        total = store.count_leads()
        print(f"{total} lead(s) in the base, best first:", file=out)
        header = (
            f"{'tier':<4} {'score':>5}  {'name':<36} {'platforms':<12} {'offers':>6}  best contact"
        )
        print(header, file=out)
        for shown, lead in enumerate(store.iter_leads()):
            if shown >= limit:
                print(f"... and {total - limit} more", file=out)
                break
            platforms = ",".join(sorted({o["platform"] for o in lead["offers"]}))
            contact = best_contact(lead) or "-"
            name = (lead["name"] or "-")[:36]
            print(
                f"{lead['tier'] or '-':<4} {lead['score'] if lead['score'] is not None else '-':>5}"
                f"  {name:<36} {platforms:<12} {len(lead['offers']):>6}  {contact}",
                file=out,
            )
    finally:
        store.engine.dispose()
    return 0


def best_contact(lead: StoredLead) -> str | None:
    """The contact to try first, chosen as the export chooses its best e-mail and phone."""
    best = readmodel.best_contact(lead)
    return f"{best[0]}: {best[1]}" if best else None


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    settings = project_settings(args.database_url)
    where = LeadFilter(tiers=tuple(args.tier), min_score=args.min_score, since=args.since)
    store = open_store(settings["DATABASE_URL"])
    try:
        count = export(
            store.iter_leads(where),
            args.output,
            fmt=args.format,
            dialect=args.csv_dialect,
            phone_format=args.phone_format,
            stdout=out,
        )
    finally:
        store.engine.dispose()
    if args.output != "-":
        print(f"Exported {count} lead(s) to {args.output}", file=out)
    return 0


def cmd_enrich(args: argparse.Namespace, out: TextIO) -> int:
    if args.file and args.retry_failed:
        print("error: give a FILE to import or --retry-failed, not both", file=sys.stderr)
        return 2
    if args.file:
        return cmd_import(args, out)
    if not args.retry_failed:
        print(
            "error: say what to do: FILE imports a list, --retry-failed retries failed enrichment",
            file=sys.stderr,
        )
        return 2
    settings = project_settings(args.database_url)
    rules = _rules_or_none(settings)
    store = open_store(settings["DATABASE_URL"])
    try:
        touched = retry_mx(store, settings, rules, out)
    finally:
        store.engine.dispose()
    print(f"MX checks retried for {touched} lead(s)", file=out)
    if args.skip_sites:
        return 0
    stats = run_spider(settings, "site", retry_failed="true", limit=args.limit)
    print(
        f"Website visits retried for {stats.get('site/retries', 0)} lead(s): "
        f"{stats.get('leadcrawler/enrich/site/ok', 0)} read, "
        f"{stats.get('leadcrawler/enrich/site/failed', 0)} failed again",
        file=out,
    )
    return 0


def apply_overrides(settings: Settings, overrides: Sequence[str]) -> str | None:
    """``-s NAME=VALUE`` as in Scrapy; an error message for a malformed one."""
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            return f"-s takes NAME=VALUE, not {item!r}"
        settings.set(name.strip(), value, priority="cmdline")
    return None


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    """``leadcrawler enrich FILE``: a raw list through the chain, with a summary."""
    from scrapy.crawler import CrawlerProcess

    from leadcrawler.intake.reader import IntakeError, open_source, parse_mapping
    from leadcrawler.spiders.intake import rejects_path_for

    path = Path(args.file)
    try:
        source = open_source(path, parse_mapping(args.map))
        source.close()
    except IntakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = project_settings(args.database_url)
    settings.set("LOG_LEVEL", "ERROR", priority="cmdline")  # the summary says what happened
    if args.skip_sites:
        settings.set("ENRICH_SITE_ENABLED", False, priority="cmdline")
    settings.set("INTAKE_PROGRESS", sys.stderr.isatty(), priority="cmdline")
    problem = apply_overrides(settings, args.set or [])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    rejects = Path(args.rejects) if args.rejects else rejects_path_for(path)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("intake")
    process.crawl(crawler, file=str(path), map=list(args.map or []), rejects=str(rejects))
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = crawler.spider
    print_import_summary(path, stats, rejects, getattr(spider, "unknown_columns", []), out)
    reason = stats.get("finish_reason")
    if reason != "finished" or stats.get("leadcrawler/intake/unreadable_file"):
        print(f"error: the import did not finish ({reason})", file=sys.stderr)
        return 1
    return 0


def print_import_summary(
    path: Path, stats: dict[str, Any], rejects: Path, unknown: Sequence[str], out: TextIO
) -> None:
    prefix = "leadcrawler/intake/"
    read = int(stats.get(f"{prefix}rows_read", 0))
    seconds = float(stats.get(f"{prefix}seconds", 0) or 0)
    rate = stats.get(f"{prefix}rows_per_second", 0)
    print(f"Imported {path.name}: {read} row(s) read in {seconds:.1f} s ({rate} rows/s)", file=out)
    print(
        f"  leads created: {stats.get('leadcrawler/persist/created', 0)}, "
        f"rows merged into known leads: {stats.get('leadcrawler/persist/updated', 0)}",
        file=out,
    )
    reasons = {
        key.removeprefix(f"{prefix}rejected/"): value
        for key, value in sorted(stats.items())
        if key.startswith(f"{prefix}rejected/")
    }
    total = int(stats.get(f"{prefix}rejected", 0))
    if total:
        detail = ", ".join(f"{reason} {count}" for reason, count in reasons.items())
        print(f"  rejected: {total} ({detail}); lines and reasons in {rejects}", file=out)
    else:
        print("  rejected: 0", file=out)
    spilled = stats.get("leadcrawler/persist/spilled", 0)
    if spilled:
        print(f"  NOT stored (kept in the spill folder): {spilled}", file=out)
    if unknown:
        print(f"  columns ignored (not stored): {', '.join(unknown)}", file=out)


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    """``leadcrawler serve``: the enricher's HTTP API with its worker."""
    import ipaddress

    import uvicorn

    from leadcrawler.api.app import TOKEN_ENV, ApiConfig, create_app, tokens_from_env
    from leadcrawler.api.worker import start_worker

    tokens = tokens_from_env(os.environ.get(TOKEN_ENV))
    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not tokens and not loopback:
        print(
            f"error: refusing to serve on {args.host} without a token: set {TOKEN_ENV} "
            "(or serve on 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    settings = project_settings(args.database_url)
    problem = apply_overrides(settings, args.set or [])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    enrich_args: list[str] = ["--skip-sites"] if args.skip_sites else []
    for item in args.set or []:
        enrich_args += ["-s", item]
    config = ApiConfig.from_settings(settings, settings["DATABASE_URL"], tokens)
    config = dataclasses.replace(config, worker=not args.no_worker, enrich_args=tuple(enrich_args))
    if not tokens:
        print(f"warning: no {TOKEN_ENV} set: the API is open to this machine only", file=out)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(config, start_worker)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="info")
    return 0


def retry_mx(store: LeadStore, settings: Settings, rules: Rules | None, out: TextIO) -> int:
    """Ask DNS again for the e-mail domains whose MX check timed out or failed."""
    pending = store.emails_needing_mx()
    if not pending:
        return 0
    if not settings.getbool("ENRICH_DNS_ENABLED"):
        print("MX checks are off (ENRICH_DNS_ENABLED): not retried", file=out)
        return 0
    try:
        checker = DnsConfig.from_settings(settings).checker()
    except ConfigError as exc:
        print(f"MX checks are off: {exc}", file=out)
        return 0

    async def check_all() -> list[MxResult]:
        return list(await asyncio.gather(*(checker.check(domain) for domain in pending)))

    results = dict(zip(pending, asyncio.run(check_all()), strict=True))
    facts: dict[int, dict[str, Any]] = {}
    retry: set[int] = set()
    for domain, contact_ids in pending.items():
        for contact_id in contact_ids:
            facts[contact_id] = mx_facts(results[domain])
            if results[domain].retryable:
                retry.add(contact_id)
    return store.record_mx(facts, retry, rules)


def _chain(settings: Settings) -> Chain:
    """The enricher's configuration as a crawl would build it (rules, identity rules)."""
    return Chain(settings, MemoryStats())


def _rules_or_none(settings: Settings) -> Rules | None:
    try:
        return _chain(settings).rules
    except ConfigError as exc:
        logger.warning("Leads will not be re-scored: %s", exc)
        return None


def cmd_dedupe(args: argparse.Namespace, out: TextIO) -> int:
    if not args.rebuild:
        print("error: say what to do: --rebuild re-links the whole base", file=sys.stderr)
        return 2
    settings = project_settings(args.database_url)
    chain = _chain(settings)
    try:
        rules = chain.rules
        similarity = chain.dedupe_config.name_similarity
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings["DATABASE_URL"], name_similarity=similarity)
    try:
        result = store.rebuild_links(rules)
    finally:
        store.engine.dispose()
    print(
        f"Re-linked the base: {result.leads_before} lead(s) before, {result.leads_after} after "
        f"({result.merged} merged), {result.keys} identity key(s)",
        file=out,
    )
    return 0


def tiers(value: str) -> list[str]:
    chosen = [t.strip().upper() for t in value.split(",") if t.strip()]
    wrong = [t for t in chosen if t not in ("A", "B", "C")]
    if not chosen or wrong:
        raise argparse.ArgumentTypeError(f"tiers are A, B and C, comma-separated: {value!r}")
    return chosen


def since_date(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-11-01 or 2026-11-01T12:00: {value!r}"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_migrate(args: argparse.Namespace, out: TextIO) -> int:
    settings = project_settings(args.database_url)
    store = open_store(settings["DATABASE_URL"])
    store.engine.dispose()
    print(f"Schema is up to date: {store.engine.url.render_as_string()}", file=out)
    return 0


def cmd_rescore(args: argparse.Namespace, out: TextIO) -> int:
    settings = project_settings(args.database_url)
    rules_file = args.rules or settings["QUALIFY_RULES_FILE"]
    try:
        rules = Rules.from_file(rules_file)
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings["DATABASE_URL"])
    try:
        count = store.rescore_all(rules)
    finally:
        store.engine.dispose()
    print(f"Re-scored {count} lead(s) with {rules_file}", file=out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadcrawler", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, help_text: str, database_default: str | None = None
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--database-url",
            default=database_default,
            help="SQLAlchemy URL of the base (default: DATABASE_URL from the settings"
            + (f"; the demo uses {database_default}" if database_default else "")
            + ")",
        )
        return p

    demo = add("demo", "Crawl the bundled sample pages and print the leads", DEMO_DATABASE_URL)
    demo.add_argument("--limit", type=int, default=50, help="leads to print (default 50)")
    demo.set_defaults(func=cmd_demo)
    leads = add("leads", "List the leads in the base, in priority order")
    leads.add_argument("--limit", type=int, default=50, help="leads to print (default 50)")
    leads.set_defaults(func=cmd_leads)
    exp = add("export", "Write the leads to CSV or JSON Lines, best first")
    exp.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    exp.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    exp.add_argument("--tier", type=tiers, default=[], help="only these tiers, e.g. A,B")
    exp.add_argument("--min-score", type=int, help="only leads scoring at least this")
    exp.add_argument("--since", type=since_date, help="only leads seen on or after this date")
    exp.add_argument(
        "--csv-dialect",
        choices=sorted(CSV_DIALECTS),
        default="excel-br",
        help="excel-br (default: ';', UTF-8 BOM, for Excel pt-BR) or rfc4180 (',')",
    )
    exp.add_argument(
        "--phone-format",
        choices=PHONE_FORMATS,
        default="e164",
        help="e164 (+5511..., quoted against formulas in CSV), national or digits",
    )
    exp.set_defaults(func=cmd_export)
    enrich = add(
        "enrich",
        "Import a raw list (CSV, XLSX, JSON Lines) through the enricher, or retry failed steps",
    )
    enrich.add_argument("file", nargs="?", help="a .csv, .xlsx or .jsonl list of leads to import")
    enrich.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="read COLUMN as FIELD (name, company, email, phone, whatsapp, website, instagram, "
        "facebook, tiktok, youtube, linkedin, social, cnpj, ignore); repeatable",
    )
    enrich.add_argument(
        "--rejects", help="where rejected rows go (default: <FILE>.rejects.csv beside it)"
    )
    enrich.add_argument(
        "-s",
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="a Scrapy setting for this run, as in `scrapy crawl -s`; repeatable",
    )
    enrich.add_argument(
        "--retry-failed",
        action="store_true",
        help="re-check MX that timed out and re-visit websites that could not be read",
    )
    enrich.add_argument("--limit", type=int, help="websites to re-visit at most")
    enrich.add_argument(
        "--skip-sites",
        action="store_true",
        help="do not visit websites (an import) / only retry MX checks (--retry-failed)",
    )
    enrich.set_defaults(func=cmd_enrich)
    serve = add("serve", "Serve the enricher's HTTP API (raw leads in, leads out)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--no-worker", action="store_true", help="store batches, enrich none")
    serve.add_argument(
        "--skip-sites", action="store_true", help="the worker does not visit websites"
    )
    serve.add_argument(
        "-s",
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="a setting for the server and the worker's imports; repeatable",
    )
    serve.set_defaults(func=cmd_serve)
    dedupe = add("dedupe", "Re-link the whole base with the current identity rules")
    dedupe.add_argument("--rebuild", action="store_true", help="recompute keys and merge")
    dedupe.set_defaults(func=cmd_dedupe)
    add("migrate", "Bring the base's schema up to date").set_defaults(func=cmd_migrate)
    rescore = add("rescore", "Re-score every lead with the qualification rules")
    rescore.add_argument("--rules", help="rules file (default: QUALIFY_RULES_FILE)")
    rescore.set_defaults(func=cmd_rescore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func not in (cmd_demo, cmd_enrich, cmd_serve):  # those set up their own logging
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return int(args.func(args, sys.stdout))


if __name__ == "__main__":
    sys.exit(main())
