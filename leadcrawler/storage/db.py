"""Engines and schema migrations for the historical base.

``DATABASE_URL`` selects the database: the default is an embedded SQLite file, a
``postgresql+psycopg2://`` URL selects PostgreSQL. ``migrate()`` brings the schema to the
newest Alembic revision; the persist stage and the CLI call it on first use.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

# Two stages of one crawl open the base at the same time; two crawls may too.
_MIGRATE_LOCK = threading.Lock()
_MIGRATED: set[str] = set()
MIGRATION_ADVISORY_LOCK = 0x1EAD_C0DE  # PostgreSQL advisory lock id held while migrating


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite, creates the parent folder and turns on FK checks."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Writers wait for each other instead of failing at once ("database is locked").
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is off: the "begin" event emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "leadcrawler:migrations")
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
