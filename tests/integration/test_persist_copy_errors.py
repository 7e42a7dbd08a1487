"""A driver error raised by the set-based writer's raw ``COPY`` does not lose the batch.

``COPY ... FROM STDIN`` runs on the psycopg2 cursor, outside SQLAlchemy, so its errors come
out as bare ``psycopg2`` exceptions. Persist retries and spills on ``SQLAlchemyError`` only:
before the writer wrapped them (commit f535c2f), a ``UniqueViolation`` from a concurrent
writer escaped persist and took its whole batch with it (two distributed crawls lost 100
leads). Here a trigger on the real PostgreSQL base makes ``COPY`` into ``leads`` fail with a
unique violation, as the concurrent writer did.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import text

from leadcrawler.storage.store import open_store
from tests.integration.test_pipeline_persist import items, make

# COPY into leads fails with a unique violation for the first `failures` COPY statements
# (a sequence counts them: nextval is not undone by the failed transaction's rollback).
FAULT_SQL = """
CREATE SEQUENCE copy_faults;
CREATE FUNCTION fail_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_query() ILIKE 'COPY leads%' AND nextval('copy_faults') <= {failures} THEN
        RAISE EXCEPTION 'duplicate key value (injected for the test)'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER fail_copy BEFORE INSERT ON leads FOR EACH STATEMENT EXECUTE FUNCTION fail_copy();
"""


def inject_copy_failures(pg_url: str, failures: int) -> None:
    store = open_store(pg_url)  # the schema, migrated, before the trigger goes on it
    with store.engine.begin() as conn:
        conn.execute(text(FAULT_SQL.format(failures=failures)))
    store.engine.dispose()


def copies_failed(pg_url: str) -> int:
    store = open_store(pg_url)
    with store.engine.connect() as conn:
        value = conn.execute(text("SELECT last_value FROM copy_faults")).scalar_one()
    store.engine.dispose()
    return int(value)


def crawl(pg_url: str, tmp_path: Path, leads: int, **settings: object) -> dict[str, object]:
    pipeline = make(pg_url, tmp_path, PERSIST_BATCH_SIZE=leads, **settings)

    async def scenario() -> None:
        await pipeline.open_spider()
        for item in items(leads):
            await pipeline.process_item(item)
        await pipeline.close_spider()

    asyncio.run(scenario())
    return dict(pipeline.stats.get_stats())


def test_a_copy_that_fails_once_is_retried_and_every_lead_is_stored(
    pg_url: str, tmp_path: Path
) -> None:
    inject_copy_failures(pg_url, failures=1)

    stats = crawl(pg_url, tmp_path, leads=5, PERSIST_RETRY_TIMES=2)

    assert copies_failed(pg_url) >= 1  # the fault did fire on the COPY
    assert stats["leadcrawler/persist/batch_errors"] == 1
    assert stats["leadcrawler/persist/created"] == 5
    assert "leadcrawler/persist/spilled" not in stats
    store = open_store(pg_url)
    assert store.count_leads() == 5
    store.engine.dispose()


def test_a_copy_that_keeps_failing_spills_the_batch_instead_of_losing_it(
    pg_url: str, tmp_path: Path
) -> None:
    inject_copy_failures(pg_url, failures=1_000)

    stats = crawl(pg_url, tmp_path, leads=3, PERSIST_RETRY_TIMES=1)

    assert stats["leadcrawler/persist/batch_errors"] == 2  # first try + 1 retry
    assert stats["leadcrawler/persist/spilled"] == 3  # then one by one, each kept in the file
    [spill] = (tmp_path / "unsaved").glob("unsaved-*.jsonl")
    names = [json.loads(line)["display_name"] for line in spill.read_text().splitlines()]
    assert names == ["Produtor 0", "Produtor 1", "Produtor 2"]
    store = open_store(pg_url)
    assert store.count_leads() == 0
    store.engine.dispose()
