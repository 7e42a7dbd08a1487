"""Runs of the crawls: their metrics and the history a baseline is computed from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from leadcrawler.domain.items import utcnow
from leadcrawler.storage.db import writer
from leadcrawler.storage.models import Run
from leadcrawler.storage.repository import as_utc


class RunStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # Writes read the run first: on SQLite a deferred transaction that then writes while
        # the persist stage records the run's end fails at once ("database is locked", the
        # lock upgrade cannot wait); BEGIN IMMEDIATE waits its turn (the busy timeout).
        self.writes = sessionmaker(writer(engine), expire_on_commit=False)

    def record(
        self,
        run_id: int | None,
        *,
        spider: str,
        source: str,
        reason: str,
        metrics: dict[str, Any],
        counts: dict[str, Any],
        started_at: datetime | None,
    ) -> int:
        """Store a finished run's metrics (creating the run when the persist stage was off)."""
        with self.writes.begin() as session:
            if run_id is None or session.get(Run, run_id) is None:
                run = Run(
                    spider=spider, arguments={}, started_at=started_at or utcnow(), counts=counts
                )
                session.add(run)
                session.flush()
                run_id = run.id
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    source=source,
                    metrics=metrics,
                    finish_reason=reason,
                    finished_at=utcnow(),
                    counts=counts,
                )
            )
            return run_id

    def history(self, source: str, before_id: int | None, limit: int) -> list[dict[str, Any]]:
        """Metrics of the source's earlier finished runs, newest first."""
        query = select(Run.metrics).where(Run.source == source, Run.finished_at.is_not(None))
        if before_id is not None:
            query = query.where(Run.id < before_id)
        query = query.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
        with self.sessions() as session:
            return [m for m in session.scalars(query) if m]

    def recent(
        self, last: int, spiders: Sequence[str] = (), sources: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The last ``last`` runs with metrics of each source, oldest first."""
        query = select(Run).where(Run.source.is_not(None))
        if spiders:
            query = query.where(Run.spider.in_(spiders))
        if sources:
            query = query.where(Run.source.in_(sources))
        query = query.order_by(Run.started_at.desc(), Run.id.desc())
        per_source: dict[str, list[dict[str, Any]]] = {}
        with self.sessions() as session:
            for run in session.scalars(query):
                rows = per_source.setdefault(run.source or "?", [])
                if len(rows) >= last or not run.metrics:
                    continue
                rows.append(
                    {
                        "run_id": run.id,
                        "spider": run.spider,
                        "source": run.source,
                        "started_at": as_utc(run.started_at),
                        "finished_at": as_utc(run.finished_at) if run.finished_at else None,
                        "metrics": run.metrics,
                    }
                )
        return [row for rows in per_source.values() for row in reversed(rows)]
