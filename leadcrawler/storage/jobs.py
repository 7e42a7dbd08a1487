"""Intake jobs: raw-lead batches the API stored, waiting for (or done by) the worker.

A batch is committed here before the API answers 202, so a restart loses nothing: jobs
a dead worker left ``running`` go back to ``queued`` when the next one starts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import sessionmaker

from leadcrawler.domain.items import utcnow
from leadcrawler.storage.models import IntakeJob, Run


@dataclass(frozen=True, slots=True)
class JobView:
    id: str
    status: str
    kind: str
    rows: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any]


def _view(job: IntakeJob) -> JobView:
    return JobView(
        job.id,
        job.status,
        job.kind,
        job.rows,
        job.created_at,
        job.started_at,
        job.finished_at,
        dict(job.summary or {}),
    )


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, kind: str, rows: int, payload: str) -> str:
        job_id = str(uuid.uuid4())
        with self.sessions.begin() as session:
            session.add(
                IntakeJob(
                    id=job_id,
                    status="queued",
                    kind=kind,
                    rows=rows,
                    payload=payload,
                    created_at=utcnow(),
                    summary={},
                )
            )
        return job_id

    def get(self, job_id: str) -> JobView | None:
        with self.sessions() as session:
            job = session.get(IntakeJob, job_id)
            return _view(job) if job else None

    def claim(self) -> tuple[JobView, str] | None:
        """The oldest queued job, marked running, with its payload (one worker gets it)."""
        with self.sessions.begin() as session:
            query = (
                select(IntakeJob)
                .where(IntakeJob.status == "queued")
                .order_by(IntakeJob.created_at)
                .limit(1)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            job = session.scalars(query).first()
            if job is None:
                return None
            job.status = "running"
            job.started_at = utcnow()
            return _view(job), job.payload

    def finish(self, job_id: str, status: str, summary: dict[str, Any]) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(IntakeJob)
                .where(IntakeJob.id == job_id)
                .values(status=status, summary=summary, finished_at=utcnow(), payload="")
            )

    def requeue_running(self) -> int:
        """Jobs a dead worker left running go back to the queue."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(IntakeJob).where(IntakeJob.status == "running").values(status="queued")
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def runs(self, spider: str | None, last: int) -> list[dict[str, Any]]:
        """The newest runs (crawls and imports) with their final counts."""
        with self.sessions() as session:
            query = select(Run).order_by(Run.id.desc()).limit(last)
            if spider:
                query = query.where(Run.spider == spider)
            return [
                {
                    "run_id": run.id,
                    "spider": run.spider,
                    "arguments": run.arguments,
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "finish_reason": run.finish_reason,
                    "counts": run.counts,
                }
                for run in session.scalars(query)
            ]

    def run_for_file(self, file_name: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            for run in session.scalars(
                select(Run).where(Run.spider == "intake").order_by(Run.id.desc()).limit(50)
            ):
                if (run.arguments or {}).get("file") == file_name:
                    return {"run_id": run.id, "counts": dict(run.counts or {})}
        return None
