"""Engines and schema migrations for the historical base.

``DATABASE_URL`` selects the database: the default is an embedded SQLite file, a
``postgresql+psycopg2://`` URL selects PostgreSQL. ``migrate()`` brings the schema to the
newest Alembic revision; the persist stage and the CLI call it on first use.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

logger = logging.getLogger(__name__)

# Two stages of one crawl open the base at the same time; two crawls may too.
_MIGRATE_LOCK = threading.Lock()
_MIGRATED: set[str] = set()
MIGRATION_ADVISORY_LOCK = 0x1EAD_C0DE  # PostgreSQL advisory lock id held while migrating


class DatabaseUnavailable(RuntimeError):
    """The base cannot be used; the message says which and why, in one line."""


def describe_database_error(exc: BaseException) -> str:
    """One line for a database error: the driver's first line, never a password."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return f"cannot use the database: {lines[0] if lines else type(orig).__name__}"


def database_url(url: str) -> URL:
    """``url`` parsed; ``postgresql://`` and ``postgres://`` use the installed psycopg2.

    SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which is not installed, and
    does not know ``postgres://`` (the spelling of Heroku and many hosting panels) at all.
    Raises ``sqlalchemy.exc.ArgumentError`` for a string that is no URL.
    """
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite, creates the parent folder and turns on FK checks."""
    parsed = database_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other instead of failing at once ("database is locked").
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_driver_name() == "psycopg2":
        # Batched UPDATEs (execute_batch) for the set-based write path; INSERTs are
        # already sent as multi-row VALUES.
        kwargs.setdefault("executemany_mode", "values_plus_batch")
    return create_engine(parsed, **kwargs)


def writer(engine: Engine) -> Engine:
    """``engine`` for transactions that write: on SQLite they begin with ``BEGIN IMMEDIATE``.

    SQLite's default deferred transaction takes the write lock only at its first write, so
    two crawls could both look a producer up, both find nothing and both insert it. An
    immediate transaction takes the lock before the lookup: identity resolution and the write
    it decides are serialised between processes (the other waits, up to the 30 s busy
    timeout). Reads keep deferred transactions, so an export never blocks a crawl.
    """
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def _sqlite_begin(connection: Any) -> None:
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return  # VACUUM and friends run outside any transaction
    connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")


WAL_SWITCH_SECONDS = 30.0  # as long as any other wait for the file's lock


def enable_wal(cursor: Any, sleep: Any = time.sleep) -> None:
    """``PRAGMA journal_mode=WAL``, waiting while another process holds what it needs.

    Two processes opening a new file at once (overlapping cron runs) both switch it to WAL;
    SQLite may answer the second ``database is locked`` at once, without its busy handler
    (the switch and WAL recovery take locks the handler does not wait for). The mode is
    stored in the file: once one process has switched it, the other's pragma is a no-op.
    """
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            sleep(0.05)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is off: the "begin" event emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    enable_wal(cursor)
    # Deleted rows are overwritten with zeros, not just unlinked: `leadcrawler forget`
    # promises that a forgotten person's bytes are gone from the file (LGPD art. 18 VI).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_EXTRACTED: list[str] = []
_EXTRACT_LOCK = threading.Lock()


def _script_location() -> str:
    """Alembic reads its scripts from a folder. From a zipped egg (Scrapyd) the migrations are
    copied to a temporary folder once per process first."""
    scripts = resources.files("leadcrawler.migrations")
    if isinstance(scripts, Path):
        return "leadcrawler:migrations"
    with _EXTRACT_LOCK:
        if not _EXTRACTED:
            target = Path(tempfile.mkdtemp(prefix="leadcrawler-migrations-"))
            atexit.register(shutil.rmtree, target, ignore_errors=True)
            _copy_tree(scripts, target)
            _EXTRACTED.append(str(target))
    return _EXTRACTED[0]


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                (target / entry.name).mkdir(exist_ok=True)
                _copy_tree(entry, target / entry.name)
        elif entry.name.endswith((".py", ".mako")):
            (target / entry.name).write_bytes(entry.read_bytes())


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a no-op when it is already there)."""
    url = engine.url.render_as_string(hide_password=False)
    with _MIGRATE_LOCK:
        if url in _MIGRATED:
            return
        cfg = alembic_config(url)
        # On SQLite the immediate transaction serialises two crawls migrating a new file.
        with writer(engine).begin() as connection:
            if engine.dialect.name == "postgresql":
                # Serialises concurrent crawls migrating the same database.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_ADVISORY_LOCK}
                )
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
        _MIGRATED.add(url)
    logger.debug("Schema of %s is at the newest revision", engine.url)


def check_database(url: str, auto_migrate: bool = True) -> None:
    """Open the base once, check it takes writes, migrate it: else ``DatabaseUnavailable``.

    A crawl calls this before it starts, so an unreachable server, a missing database, a
    read-only SQLite file or a file that is not a SQLite base is one line, not a crawl that
    fails half-way.
    """
    try:
        engine = make_engine(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"DATABASE_URL is not a database URL: {exc}") from None
    except (ImportError, SQLAlchemyError) as exc:
        raise DatabaseUnavailable(describe_database_error(exc)) from None
    try:
        with writer(engine).begin() as connection:
            if engine.dialect.name == "sqlite":
                # A real write (the same value back): a read-only file fails here.
                version = connection.exec_driver_sql("PRAGMA user_version").scalar()
                connection.exec_driver_sql(f"PRAGMA user_version = {int(version or 0)}")
            else:
                connection.execute(text("SELECT 1"))
        if auto_migrate:
            migrate(engine)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(describe_database_error(exc)) from None
    finally:
        engine.dispose()
