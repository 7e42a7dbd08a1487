"""The ``leadcrawler`` command line, for operators and analysts.

  leadcrawler demo       crawl the bundled sample pages through the local fixture web
  leadcrawler leads      list the leads in the historical base, in priority order
  leadcrawler export     write the leads to CSV or JSON Lines, in priority order
  leadcrawler dedupe     re-link the whole base after identity rules change (--rebuild)
  leadcrawler enrich     import a raw list (FILE), or retry failed enrichment (--retry-failed)
  leadcrawler migrate    bring the base's schema up to date
  leadcrawler replay     store the leads parked while the base was away
  leadcrawler rescore    re-score every lead after editing settings/qualification.toml
  leadcrawler report     recent runs per source: a table, or charts in one HTML file (--html)
  leadcrawler access     everything held about a person, with provenance (LGPD art. 18)
  leadcrawler forget     delete a person and every trace of them; never collect them again
  leadcrawler suppress   keep a person out of crawls and exports without deleting (opposition)
  leadcrawler purge      delete leads not seen within PRIVACY_RETENTION_DAYS
  leadcrawler serve      the enricher's HTTP API (raw leads in, leads and runs out)

The base is ``DATABASE_URL`` from the Scrapy settings (environment or ``--database-url``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TextIO

from scrapy.settings import Settings
from scrapy.utils.conf import closest_scrapy_cfg
from scrapy.utils.project import get_project_settings
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from leadcrawler.domain.items import utcnow
from leadcrawler.domain.scoring import Rules, RulesError
from leadcrawler.enricher import Chain, ConfigError, MemoryStats
from leadcrawler.enricher.dedupe import DedupeConfig
from leadcrawler.enricher.dns import DnsConfig, MxResult
from leadcrawler.enricher.enrich import mx_facts
from leadcrawler.enricher.qualify import rules_file as qualify_rules_file
from leadcrawler.enricher.qualify import rules_for_crawl
from leadcrawler.logformatter import install_log_masking
from leadcrawler.privacy.config import PrivacyConfig, PrivacyConfigError
from leadcrawler.storage import readmodel
from leadcrawler.storage.db import DatabaseUnavailable, describe_database_error
from leadcrawler.storage.db import database_url as database_url_of
from leadcrawler.storage.export import (
    CSV_DIALECTS,
    PHONE_FORMATS,
    ExportError,
    export,
    last_export,
    record_export,
)
from leadcrawler.storage.privacy import (
    PrivacyStore,
    SubjectResult,
    SuppressionFilter,
    UnknownValue,
    record_audit,
)
from leadcrawler.storage.readmodel import StoredLead
from leadcrawler.storage.rebuild import RebuildLimits
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
    store = existing_store(database_url)
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
    config = privacy_config(settings)
    if config is None:
        return 2
    started_at = datetime.now(UTC)
    changed_since: datetime | None = None
    if args.changed_since == "LAST":
        if args.output == "-":
            print("error: --changed-since LAST needs a file (-o FILE) to remember", file=sys.stderr)
            return 2
        changed_since = last_export(args.output)  # None: first export, everything
    elif args.changed_since is not None:
        changed_since = since_date(args.changed_since)
    where = LeadFilter(
        tiers=tuple(args.tier),
        min_score=args.min_score,
        since=args.since,
        platforms=tuple(args.platform),
        sources=tuple(args.source),
        changed_since=changed_since,
    )
    store = existing_store(settings["DATABASE_URL"])
    try:
        # The suppression list is checked again here: a person suppressed after their
        # lead was stored is never handed to sales.
        try:
            allowed = SuppressionFilter(store.engine, config)
        except PrivacyConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        digest = hashlib.sha256()
        leads = allowed.filter(store.iter_leads(where))
        show_bar = args.output != "-" and sys.stderr.isatty()
        with progress_bar(show_bar, store.count_leads(where) if show_bar else 0) as advance:
            count = export(
                (advance(lead) for lead in leads),
                args.output,
                fmt=args.format,
                dialect=args.csv_dialect,
                phone_format=args.phone_format,
                stdout=out,
                digest=digest,
            )
        record_audit(
            store.engine,
            "export",
            details={
                "filters": {
                    "tier": list(args.tier),
                    "min_score": args.min_score,
                    "since": args.since.isoformat() if args.since else None,
                    "platform": list(args.platform),
                    "source": list(args.source),
                    "changed_since": changed_since.isoformat() if changed_since else None,
                },
                "format": args.format,
                "rows": count,
                "suppressed_rows": allowed.refused,
                "output": "stdout" if args.output == "-" else "file",
                "sha256": digest.hexdigest(),
            },
        )
    finally:
        store.engine.dispose()
    if args.output != "-":
        record_export(args.output, started_at, count)
        delta = f" new or updated since {changed_since:%Y-%m-%d %H:%M} UTC" if changed_since else ""
        print(f"Exported {count} lead(s){delta} to {args.output}", file=out)
    return 0


@contextmanager
def progress_bar(show: bool, total: int) -> Iterator[Callable[[Any], Any]]:
    """A ``rich`` progress bar on a terminal (stderr); nothing when piped or redirected."""
    if not show:
        yield lambda item: item
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Exporting leads", total=total)

        def advance(item: Any) -> Any:
            bar.advance(task)
            return item

        yield advance


def names(value: str) -> list[str]:
    chosen = [v.strip().lower() for v in value.split(",") if v.strip()]
    if not chosen:
        raise argparse.ArgumentTypeError(f"expected comma-separated names: {value!r}")
    return chosen


def changed_since_arg(value: str) -> str:
    if value != "LAST":
        since_date(value)  # a clear error now rather than later
    return value


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

    from leadcrawler.intake.config import IntakeConfig
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
    try:
        IntakeConfig.from_settings(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
    try:
        config = ApiConfig.from_settings(settings, settings["DATABASE_URL"], tokens)
    except PrivacyConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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
    existing_store(settings["DATABASE_URL"]).engine.dispose()
    limits = RebuildLimits(
        max_checkouts=settings.getint("ENRICH_SITE_MAX_CHECKOUT_LINKS"),
        max_contacts=settings.getint("ENRICH_SITE_MAX_CONTACTS"),
    )
    store = open_store(settings["DATABASE_URL"], name_similarity=similarity)
    try:
        result = store.rebuild_links(rules, limits=limits, dry_run=args.dry_run)
    finally:
        store.engine.dispose()
    verb = "Would re-link (dry run, nothing changed)" if result.dry_run else "Re-linked"
    print(
        f"{verb} the base: {result.leads_before} lead(s) before, {result.leads_after} after "
        f"({result.merged} merged), {result.split} part(s) split off, "
        f"{result.keys} identity key(s)",
        file=out,
    )
    return 0


def tiers(value: str) -> list[str]:
    chosen = [t.strip().upper() for t in value.split(",") if t.strip()]
    wrong = [t for t in chosen if t not in ("A", "B", "C")]
    if not chosen or wrong:
        raise argparse.ArgumentTypeError(f"tiers are A, B and C, comma-separated: {value!r}")
    return chosen


def whole_number(low: int, high: int | None, out_of_range: str) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (None: no upper bound).

    ``out_of_range`` is the message for a number outside, with ``{number}`` and ``{value}``.
    """

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number: {value!r}") from None
        if number < low or (high is not None and number > high):
            raise argparse.ArgumentTypeError(out_of_range.format(number=number, value=value))
        return number

    return parse


count = whole_number(0, 10_000_000, "expected 0 to 10000000, not {number}")
score_value = whole_number(0, 100, "scores are 0 to 100, not {number}")
positive = whole_number(1, None, "expected a whole number >= 1: {value!r}")


def existing_store(database_url: str) -> LeadStore:
    """The base a read command reads: a SQLite file that does not exist is an error.

    Opening a mistyped path would otherwise create an empty base and report no leads.
    """
    parsed = database_url_of(database_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if not parsed.query.get("uri") and not path.is_file():
            raise DatabaseUnavailable(f"there is no base at {path} (check --database-url)")
    return open_store(database_url)


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


def cmd_replay(args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from leadcrawler.replay import SpillReplayer, unclaim

    settings = project_settings(args.database_url)
    spill_dir = Path(args.spill_dir or settings["PERSIST_SPILL_DIR"])
    replayer = SpillReplayer(spill_dir, settings.getint("REPLAY_BATCH_SIZE"))
    if not replayer.pending():
        print(f"No parked leads in {spill_dir}", file=out)
        return 0
    try:
        similarity = DedupeConfig.from_settings(settings).name_similarity  # the dedupe step's
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        store = open_store(
            settings["DATABASE_URL"], settings.getbool("DATABASE_AUTO_MIGRATE"), similarity
        )
    except SQLAlchemyError as exc:
        print(
            f"error: the base is not reachable ({exc.__class__.__name__}); "
            "the parked leads stay where they are",
            file=sys.stderr,
        )
        return 1
    rules = None
    try:
        rules = rules_for_crawl(settings)
    except ConfigError as exc:
        print(f"warning: replayed leads are not re-scored: {exc}", file=sys.stderr)
    claimed = replayer.claim()
    try:
        run_id = store.start_run("replay", {"spill_dir": str(spill_dir)})
        result = replayer.replay(store, claimed, rules, run_id)
        store.finish_run(
            run_id,
            "finished" if not result.left else "base_unavailable",
            {
                "leadcrawler/replay/replayed": result.replayed,
                "leadcrawler/replay/left": result.left,
            },
        )
    except SQLAlchemyError as exc:
        for path in claimed:
            if path.exists():
                unclaim(path)
        print(
            f"error: the base failed ({exc.__class__.__name__}); "
            "the parked leads stay where they are",
            file=sys.stderr,
        )
        return 1
    finally:
        store.engine.dispose()
    print(
        f"Replayed {result.replayed} parked lead(s) from {result.files} file(s) in {spill_dir}",
        file=out,
    )
    if result.rejected:
        print(f"{result.rejected} line(s) were not leads: kept as rejected-*.jsonl", file=out)
    if result.left:
        print(f"error: {result.left} lead(s) still parked: the base failed again", file=sys.stderr)
        return 1
    return 0


def cmd_rescore(args: argparse.Namespace, out: TextIO) -> int:
    settings = project_settings(args.database_url)
    rules_file = args.rules or qualify_rules_file(settings)
    try:
        rules = Rules.from_file(rules_file)
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = existing_store(settings["DATABASE_URL"])
    try:
        count = store.rescore_all(rules)
    finally:
        store.engine.dispose()
    print(f"Re-scored {count} lead(s) with {rules_file}", file=out)
    return 0


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from leadcrawler.monitors.alerts import AlertConfig, AlertConfigError
    from leadcrawler.report import render_html, render_table
    from leadcrawler.storage.runs import RunStore

    settings = project_settings(args.database_url)
    try:
        config = AlertConfig.from_settings(settings)
    except AlertConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = existing_store(settings["DATABASE_URL"])
    try:
        runs = RunStore(store.engine).recent(
            args.last, spiders=[args.spider] if args.spider else ()
        )
    finally:
        store.engine.dispose()
    if args.html:
        target = Path(args.html)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_html(runs, config), encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {args.html}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"Wrote the report of {len(runs)} run(s) to {args.html}", file=out)
        return 0
    out.write(render_table(runs))
    return 0


class Parser(argparse.ArgumentParser):
    """Usage errors are one line (``leadcrawler export: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def privacy_config(settings: Settings) -> PrivacyConfig | None:
    """The privacy settings, or None after a one-line error on standard error."""
    try:
        return PrivacyConfig.from_settings(settings, warn=False)
    except PrivacyConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _privacy_store(args: argparse.Namespace, must_exist: bool = False) -> PrivacyStore | None:
    settings = project_settings(args.database_url)
    config = privacy_config(settings)
    if config is None:
        return None
    database_url = settings["DATABASE_URL"]
    store = existing_store(database_url) if must_exist else open_store(database_url)
    return PrivacyStore(store.engine, config)


def _subject_command(
    args: argparse.Namespace,
    action: Callable[[PrivacyStore], SubjectResult],
    must_exist: bool = False,
) -> SubjectResult | int:
    privacy = _privacy_store(args, must_exist)
    if privacy is None:
        return 2
    try:
        return action(privacy)
    except (UnknownValue, PrivacyConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        privacy.engine.dispose()


def warn_if_dev_pepper(args: argparse.Namespace) -> None:
    """Say so when suppression hashes were just written with the public development pepper."""
    config = privacy_config(project_settings(args.database_url))
    if config is not None and config.dev_pepper:
        print(
            "warning: LEADCRAWLER_PRIVACY_PEPPER is not set: these suppression hashes use the "
            "public development pepper and will not match a production list",
            file=sys.stderr,
        )


def cmd_forget(args: argparse.Namespace, out: TextIO) -> int:
    spill_dir = Path(project_settings(args.database_url).get("PERSIST_SPILL_DIR") or "")
    result = _subject_command(
        args, lambda p: p.forget(args.value, spill_dir=spill_dir if spill_dir.name else None)
    )
    if isinstance(result, int):
        return result
    removed = ", ".join(f"{n} {table}" for table, n in result.deleted.items() if n)
    print(
        f"Forgot {len(result.lead_uids)} lead(s) ({removed or 'nothing was held'}); "
        f"{result.newly_suppressed} identity key(s) added to the suppression list. "
        "They will not be collected again.",
        file=out,
    )
    warn_if_dev_pepper(args)
    if not result.scrubbed:
        print(
            "warning: the database files could not be scrubbed yet (a transaction older than "
            "the deletion is still open on the server); run the same command again later",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_suppress(args: argparse.Namespace, out: TextIO) -> int:
    result = _subject_command(args, lambda p: p.suppress(args.value))
    if isinstance(result, int):
        return result
    print(
        f"Suppressed: {result.newly_suppressed} identity key(s) added; "
        f"{len(result.lead_uids)} stored lead(s) kept but left out of crawls and exports.",
        file=out,
    )
    warn_if_dev_pepper(args)
    return 0


def cmd_access(args: argparse.Namespace, out: TextIO) -> int:
    result = _subject_command(args, lambda p: p.access(args.value), must_exist=True)
    if isinstance(result, int):
        return result
    if result.report:
        status = "held"
    elif result.suppressed:
        status = "suppressed, nothing held"
    else:
        status = "nothing held"
    answer = {"status": status, "suppressed": result.suppressed, "leads": result.report}
    print(json.dumps(answer, ensure_ascii=False, indent=2, default=str), file=out)
    return 0


def cmd_purge(args: argparse.Namespace, out: TextIO) -> int:
    privacy = _privacy_store(args)
    if privacy is None:
        return 2
    try:
        result = privacy.purge(utcnow(), dry_run=args.dry_run)
    finally:
        privacy.engine.dispose()
    verb = "Would delete" if args.dry_run else "Deleted"
    print(
        f"{verb} {len(result.lead_uids)} lead(s) not seen since "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC ({privacy.config.retention_days} days)",
        file=out,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="leadcrawler", description=__doc__.split("\n")[0])
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
    demo.add_argument("--limit", type=count, default=50, help="leads to print (default 50)")
    demo.set_defaults(func=cmd_demo)
    leads = add("leads", "List the leads in the base, in priority order")
    leads.add_argument("--limit", type=count, default=50, help="leads to print (default 50)")
    leads.set_defaults(func=cmd_leads)
    exp = add("export", "Write the leads to CSV or JSON Lines, best first")
    exp.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    exp.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    exp.add_argument("--tier", type=tiers, default=[], help="only these tiers, e.g. A,B")
    exp.add_argument("--min-score", type=score_value, help="only leads scoring at least this")
    exp.add_argument("--since", type=since_date, help="only leads seen on or after this date")
    exp.add_argument(
        "--platform", type=names, default=[], help="only leads selling there, e.g. kiwify,hubla"
    )
    exp.add_argument(
        "--source", type=names, default=[], help="only leads seen by these sources, e.g. hotmart"
    )
    exp.add_argument(
        "--changed-since",
        type=changed_since_arg,
        metavar="LAST|DATE",
        help="only leads new or updated since the last export to the same file (LAST) or a date",
    )
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
    enrich.add_argument("--limit", type=count, help="websites to re-visit at most")
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
    dedupe.add_argument(
        "--rebuild", action="store_true", help="group the sightings again: merge and split leads"
    )
    dedupe.add_argument(
        "--dry-run",
        action="store_true",
        help="with --rebuild: count what would change, change nothing",
    )
    dedupe.set_defaults(func=cmd_dedupe)
    add("migrate", "Bring the base's schema up to date").set_defaults(func=cmd_migrate)
    replay = add("replay", "Store the leads parked while the base was away (PERSIST_SPILL_DIR)")
    replay.add_argument("--spill-dir", help="where they are (default: PERSIST_SPILL_DIR)")
    replay.set_defaults(func=cmd_replay)
    rescore = add("rescore", "Re-score every lead with the qualification rules")
    rescore.add_argument("--rules", help="rules file (default: QUALIFY_RULES_FILE)")
    rescore.set_defaults(func=cmd_rescore)
    report = add("report", "Recent runs per source: metrics, trends and alerts")
    report.add_argument("--last", type=positive, default=10, help="runs per source (default 10)")
    report.add_argument("--spider", help="only this spider's runs, e.g. kiwify")
    report.add_argument("--html", metavar="FILE", help="write a self-contained page with charts")
    report.set_defaults(func=cmd_report)
    value_help = (
        "the person's e-mail, phone (any format), CNPJ, profile/checkout/site URL "
        "or seller:<platform>:<id>"
    )
    access = add("access", "Print everything held about a person, with provenance (JSON)")
    access.add_argument("value", help=value_help)
    access.set_defaults(func=cmd_access)
    forget = add("forget", "Delete a person and every trace of them; never collect them again")
    forget.add_argument("value", help=value_help)
    forget.set_defaults(func=cmd_forget)
    suppress = add("suppress", "Keep a person out of crawls and exports without deleting")
    suppress.add_argument("value", help=value_help)
    suppress.set_defaults(func=cmd_suppress)
    purge = add("purge", "Delete leads not seen within PRIVACY_RETENTION_DAYS")
    purge.add_argument("--dry-run", action="store_true", help="only say what would go")
    purge.set_defaults(func=cmd_purge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    install_log_masking()
    args = build_parser().parse_args(argv)
    if args.func not in (cmd_demo, cmd_enrich, cmd_serve):  # those set up their own logging
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args, sys.stdout))
    except BrokenPipeError:
        # The reader went away (``export -o - | head``): stop quietly, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("error: standard output was closed before the end (broken pipe)", file=sys.stderr)
        return 1
    except (ExportError, DatabaseUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ExportError) else 1
    except ArgumentError as exc:
        print(f"error: --database-url is not a database URL: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"error: {describe_database_error(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
