"""One historical base: one engine per process (or crawl), migrated once.

``Base.open(url)`` connects and, unless told not to, brings the schema to the newest
revision; the repositories (:class:`LeadStore`, :class:`FrontierStore`) share its engine.
A crawl gets its base from the storage extension (:mod:`leadcrawler.extensions`), a script
or the CLI opens one itself. Blocking: call ``open`` and ``close`` from a thread when an
event loop is running.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from leadcrawler.domain.identity import DEFAULT_NAME_SIMILARITY
from leadcrawler.storage.db import make_engine, migrate
from leadcrawler.storage.frontier import FrontierStore
from leadcrawler.storage.repository import LeadStore


class Base:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, database_url: str, auto_migrate: bool = True) -> Base:
        engine = make_engine(database_url)
        if auto_migrate:
            migrate(engine)
        return cls(engine)

    def leads(self, name_similarity: int = DEFAULT_NAME_SIMILARITY) -> LeadStore:
        return LeadStore(self.engine, name_similarity)

    def frontier(self, **options: Any) -> FrontierStore:
        return FrontierStore(self.engine, **options)

    @property
    def safe_url(self) -> str:
        """The database URL with its password hidden, for logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
