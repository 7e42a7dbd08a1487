"""Opening the historical base from settings, shared by the pipeline stages and the CLI."""

from __future__ import annotations

from leadcrawler.domain.identity import DEFAULT_NAME_SIMILARITY
from leadcrawler.storage.db import make_engine, migrate
from leadcrawler.storage.repository import LeadStore


def open_store(
    database_url: str, auto_migrate: bool = True, name_similarity: int = DEFAULT_NAME_SIMILARITY
) -> LeadStore:
    """Connect to ``database_url`` and, unless told not to, bring its schema up to date.

    Blocking: call it from a thread when the reactor is running.
    """
    engine = make_engine(database_url)
    if auto_migrate:
        migrate(engine)
    return LeadStore(engine, name_similarity)
