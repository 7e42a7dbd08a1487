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
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_driver_name() == "psycopg2":
        # Batched UPDATEs (execute_batch) for the set-based write path; INSERTs are
        # already sent as multi-row VALUES.
        kwargs.setdefault("executemany_mode", "values_plus_batch")
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Serialises concurrent crawls migrating the same database.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_ADVISORY_LOCK}
                )
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
        _MIGRATED.add(url)
    logger.debug("Schema of %s is at the newest revision", engine.url)
