"""Opening the historical base's lead repository in one call (the CLI, scripts, tests)."""

from __future__ import annotations

from leadcrawler.domain.identity import DEFAULT_NAME_SIMILARITY
from leadcrawler.storage.base import Base
from leadcrawler.storage.repository import LeadStore


def open_store(
    database_url: str, auto_migrate: bool = True, name_similarity: int = DEFAULT_NAME_SIMILARITY
) -> LeadStore:
    """Connect to ``database_url`` and, unless told not to, bring its schema up to date.

    Blocking: call it from a thread when the reactor is running.
    """
    return Base.open(database_url, auto_migrate).leads(name_similarity)
