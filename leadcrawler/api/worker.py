"""The API's worker: takes stored batches and runs them through the enricher.

One thread in the ``leadcrawler serve`` process. For each queued job it writes the batch
to the spool folder and runs ``leadcrawler enrich <batch>`` in a child process: the very
same import as a file (the same chain, site visits, rejects, run record), in its own
Scrapy process, never inside a request handler. The job then holds the import's summary
and its rejects (line = item number in the posted array, or the CSV line).
"""

from __future__ import annotations

import csv
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from leadcrawler.api.app import ApiState
    from leadcrawler.storage.jobs import JobView

logger = logging.getLogger(__name__)
MAX_REJECTS_IN_SUMMARY = 1000
JOB_TIMEOUT = 6 * 3600  # seconds


def start_worker(state: ApiState) -> Callable[[], None]:
    """Start the worker thread; returns the function that stops it."""
    stopping = threading.Event()
    requeued = state.jobs.requeue_running()
    if requeued:
        logger.info("%d job(s) left running by an earlier server are queued again", requeued)
    thread = threading.Thread(
        target=_loop, args=(state, stopping), name="intake-worker", daemon=True
    )
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)

    return stop


def _loop(state: ApiState, stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            claimed = state.jobs.claim()
        except Exception as exc:  # the base is unreachable: try again later
            logger.warning("Worker cannot read the job queue (%s)", exc.__class__.__name__)
            stopping.wait(state.config.worker_poll * 5)
            continue
        if claimed is None:
            stopping.wait(state.config.worker_poll)
            continue
        job, payload = claimed
        try:
            status, summary = run_job(state, job, payload)
        except Exception as exc:
            logger.exception("Job %s failed", job.id)
            status, summary = "failed", {"error": exc.__class__.__name__}
        state.jobs.finish(job.id, status, summary)
        logger.info("Job %s %s", job.id, status)


def run_job(state: ApiState, job: JobView, payload: str) -> tuple[str, dict[str, Any]]:
    spool = Path(state.config.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl" if job.kind == "jsonl" else ".csv"
    batch = spool / f"job-{job.id}{suffix}"
    rejects = spool / f"job-{job.id}.rejects.csv"
    batch.write_text(payload, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "leadcrawler.cli",
        "enrich",
        str(batch),
        "--database-url",
        state.config.database_url,
        "--rejects",
        str(rejects),
        *state.config.enrich_args,
    ]
    try:
        done = subprocess.run(  # noqa: S603 - our own CLI, arguments built here
            command,
            capture_output=True,
            text=True,
            timeout=JOB_TIMEOUT,
            env={**os.environ},
            check=False,
        )
        summary = _summary(state, batch.name, rejects, job.kind)
    finally:
        batch.unlink(missing_ok=True)  # the leads are in the base now; no copy lingers
        rejects.unlink(missing_ok=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        summary["error"] = errors[-1] if errors else f"the import exited with {done.returncode}"
        return "failed", summary
    return "done", summary


def _summary(state: ApiState, file_name: str, rejects: Path, kind: str) -> dict[str, Any]:
    run = state.jobs.run_for_file(file_name) or {"run_id": None, "counts": {}}
    counts = run["counts"]
    prefix = "leadcrawler/intake/"
    summary: dict[str, Any] = {
        "run_id": run["run_id"],
        "rows_read": int(counts.get(f"{prefix}rows_read", 0)),
        "leads_created": int(counts.get("leadcrawler/persist/created", 0)),
        "rows_merged": int(counts.get("leadcrawler/persist/updated", 0)),
        "rejected": int(counts.get(f"{prefix}rejected", 0)),
        "rejected_by_reason": {
            key.removeprefix(f"{prefix}rejected/"): int(value)
            for key, value in counts.items()
            if key.startswith(f"{prefix}rejected/")
        },
        "rows_per_second": counts.get(f"{prefix}rows_per_second"),
        "rejects": [],
    }
    if rejects.is_file():
        with rejects.open(encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle)):
                if number >= MAX_REJECTS_IN_SUMMARY:
                    break
                where = int(row["line"])
                entry: dict[str, Any] = {"reason": row["reason"], "detail": row["detail"]}
                if kind == "jsonl":
                    entry["item"] = where - 1  # 0-based index in the posted array
                else:
                    entry["line"] = where
                summary["rejects"].append(entry)
    return summary
