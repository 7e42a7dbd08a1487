"""The enricher's HTTP API (FastAPI): raw leads in, qualified leads and runs out.

  POST /v1/raw-leads        a JSON array of raw leads, or a CSV body -> 202 {"job_id"}
  GET  /v1/jobs/{job_id}    status and the import summary
  GET  /v1/leads            the export's columns, priority order, keyset pages (cursor)
  GET  /v1/leads/{lead_id}  one lead with every value's provenance
  GET  /v1/runs             per-run metrics (crawls and imports)
  GET  /health              liveness, no token

Every ``/v1`` route needs ``Authorization: Bearer <token>``; tokens come from
``LEADCRAWLER_API_TOKEN`` (several, comma-separated) and are compared in constant time.
A posted batch is committed to the base before the 202 (a restart loses nothing) and
enriched later by the worker (:mod:`leadcrawler.api.worker`): request handlers never run
the chain. Logs carry ids only, never lead data.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from leadcrawler.intake.reader import FIELDS, IntakeError, open_text_csv
from leadcrawler.logformatter import install_log_masking
from leadcrawler.privacy.config import PrivacyConfig
from leadcrawler.storage.export import lead_record
from leadcrawler.storage.jobs import JobStore
from leadcrawler.storage.privacy import SuppressionFilter, record_audit
from leadcrawler.storage.readmodel import StoredLead
from leadcrawler.storage.repository import LeadFilter, LeadStore

logger = logging.getLogger(__name__)

TOKEN_ENV = "LEADCRAWLER_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
MAX_CELL = 10_000  # characters per value, as in file imports


def tokens_from_env(value: str | None) -> tuple[str, ...]:
    """``LEADCRAWLER_API_TOKEN``: one or several tokens, comma- or space-separated."""
    return tuple(t for t in (value or "").replace(",", " ").split() if t)


@dataclass(frozen=True)
class ApiConfig:
    database_url: str
    tokens: tuple[str, ...]
    max_body_bytes: int = 5 * 1024 * 1024
    max_rows: int = 10_000
    max_page: int = 500
    worker: bool = True
    worker_poll: float = 1.0
    enrich_args: tuple[str, ...] = ()  # extra `leadcrawler enrich` arguments for the worker
    spool_dir: str = "data/intake"
    # The suppression list is checked again on every lead the API shows (LGPD): None only
    # where no privacy settings exist (a bare ApiConfig in code), never from settings.
    privacy: PrivacyConfig | None = None

    @classmethod
    def from_settings(cls, settings: Any, database_url: str, tokens: tuple[str, ...]) -> ApiConfig:
        return cls(
            database_url=database_url,
            tokens=tokens,
            max_body_bytes=settings.getint("API_MAX_BODY_BYTES"),
            max_rows=settings.getint("API_MAX_ROWS"),
            max_page=settings.getint("API_PAGE_MAX"),
            worker_poll=settings.getfloat("API_WORKER_POLL"),
            spool_dir=settings.get("API_SPOOL_DIR"),
            privacy=PrivacyConfig.from_settings(settings),
        )


Value = str | list[str] | None


class RawLead(BaseModel):
    """One raw lead: the same fields as a file import's columns. Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_CELL)

    name: str | None = None
    company: str | None = None
    email: Value = None
    phone: Value = None
    whatsapp: Value = None
    website: str | None = None
    instagram: Value = None
    facebook: Value = None
    tiktok: Value = None
    youtube: Value = None
    linkedin: Value = None
    social: Value = None
    cnpj: str | None = None


BATCH = TypeAdapter(list[RawLead])
assert set(RawLead.model_fields) <= set(FIELDS)


@dataclass
class ApiState:
    config: ApiConfig
    leads: LeadStore
    jobs: JobStore
    stop: Callable[[], None] = field(default=lambda: None)


def _problem(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def encode_cursor(lead: StoredLead) -> str:
    key = [lead["tier"] or "Z", -1 if lead["score"] is None else lead["score"]]
    key += [lead["last_seen"].isoformat(), lead["id"]]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int, datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tier, points, seen, last_id = json.loads(base64.urlsafe_b64decode(padded))
        return str(tier), int(points), datetime.fromisoformat(seen), int(last_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise _problem(400, "cursor is not one this API gave out") from None


def create_app(
    config: ApiConfig, start_worker: Callable[[ApiState], Callable[[], None]] | None = None
) -> FastAPI:
    from leadcrawler.storage.store import open_store

    state: dict[str, ApiState] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_masking()  # nothing personal in the API's logs, whoever logs it
        store = open_store(config.database_url)
        current = ApiState(config, store, JobStore(store.engine))
        state["api"] = current
        if config.worker and start_worker is not None:
            current.stop = start_worker(current)
        try:
            yield
        finally:
            current.stop()
            store.engine.dispose()

    app = FastAPI(
        title="leadcrawler enricher API",
        version="1",
        lifespan=lifespan,
        # The schema and its pages are served below, behind the token like every route
        # but /health.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        description="Raw leads in (JSON or CSV), qualified leads and run metrics out. "
        "Every /v1 route needs `Authorization: Bearer <token>`.",
    )

    def api() -> ApiState:
        return state["api"]

    def authorised(request: Request) -> None:
        if not config.tokens:
            return  # loopback without tokens (the CLI refuses other addresses)
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        ok = False
        for token in config.tokens:  # every token compared, in constant time each
            ok |= hmac.compare_digest(given.strip().encode(), token.encode())
        if scheme.lower() != "bearer" or not ok:
            raise HTTPException(
                status_code=401,
                detail="a valid bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.middleware("http")
    async def log_ids_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.monotonic()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "-")  # the template: no ids, no query string
        logger.info(
            "%s %s -> %d (%.0f ms)",
            request.method,
            path,
            response.status_code,
            1000 * (time.monotonic() - started),
        )
        return response

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", dependencies=[Depends(authorised)], include_in_schema=False)
    def openapi_schema() -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", dependencies=[Depends(authorised)], include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    def shown(leads: list[StoredLead], route: str) -> list[StoredLead]:
        """The leads the suppression list lets out, with the read in the audit log."""
        state = api()
        if config.privacy is not None:
            leads = list(SuppressionFilter(state.leads.engine, config.privacy).filter(leads))
        record_audit(
            state.leads.engine,
            "api_read",
            lead_uids=[lead["lead_id"] for lead in leads],
            details={"route": route, "rows": len(leads)},
        )
        return leads

    batch_schema = {"type": "array", "items": RawLead.model_json_schema()}

    @app.post(
        "/v1/raw-leads",
        status_code=202,
        dependencies=[Depends(authorised)],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": batch_schema},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def post_raw_leads(request: Request) -> dict[str, Any]:
        """Store a batch of raw leads for the worker; 202 with its job id."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_body_bytes:
            raise _problem(413, f"the body is larger than {config.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_body_bytes:
                raise _problem(413, f"the body is larger than {config.max_body_bytes} bytes")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("text/csv", "application/csv"):
            payload, rows = _csv_batch(bytes(body))
            job_kind = "csv"
        elif kind in ("application/json", ""):
            payload, rows = _json_batch(bytes(body))
            job_kind = "jsonl"
        else:
            raise _problem(415, "send application/json (an array of leads) or text/csv")
        if rows == 0:
            raise _problem(422, "the batch holds no leads")
        if rows > config.max_rows:
            raise _problem(413, f"at most {config.max_rows} leads per request, got {rows}")
        job_id = api().jobs.create(job_kind, rows, payload)
        logger.info("Job %s queued (%d rows)", job_id, rows)
        return {"job_id": job_id, "status": "queued", "rows": rows}

    @app.get("/v1/jobs/{job_id}", dependencies=[Depends(authorised)])
    def get_job(job_id: str) -> dict[str, Any]:
        job = api().jobs.get(job_id)
        if job is None:
            raise _problem(404, "no such job")
        return {
            "job_id": job.id,
            "status": job.status,
            "kind": job.kind,
            "rows": job.rows,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "summary": job.summary,
        }

    @app.get("/v1/leads", dependencies=[Depends(authorised)])
    def get_leads(
        tier: Annotated[str | None, Query(description="comma-separated tiers: A,B")] = None,
        min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
        since: Annotated[datetime | None, Query(description="last seen on or after")] = None,
        platform: Annotated[str | None, Query(max_length=50)] = None,
        limit: Annotated[int, Query(ge=1)] = 100,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> dict[str, Any]:
        tiers = tuple(t.strip().upper() for t in (tier or "").split(",") if t.strip())
        if any(t not in ("A", "B", "C") for t in tiers):
            raise _problem(422, "tier is A, B or C (comma-separated)")
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)  # as `leadcrawler export --since`
        limit = min(limit, config.max_page)
        after = decode_cursor(cursor) if cursor else None
        where = LeadFilter(
            tiers=tiers, min_score=min_score, since=since, platforms=(platform,) if platform else ()
        )
        page = list(api().leads.iter_leads(where, after=after, limit=limit + 1))
        more = len(page) > limit
        page = page[:limit]
        cursor_after = encode_cursor(page[-1]) if more and page else None
        return {
            "leads": [lead_record(lead) for lead in shown(page, "/v1/leads")],
            "next_cursor": cursor_after,
        }

    @app.get("/v1/leads/{lead_id}", dependencies=[Depends(authorised)])
    def get_lead(lead_id: str) -> dict[str, Any]:
        lead = api().leads.lead_detail(lead_id)
        if lead is None or not shown([lead], "/v1/leads/{lead_id}"):  # type: ignore[list-item]
            raise _problem(404, "no such lead")
        return lead

    @app.get("/v1/runs", dependencies=[Depends(authorised)])
    def get_runs(
        spider: Annotated[str | None, Query(max_length=100)] = None,
        last: Annotated[int, Query(ge=1, le=500)] = 20,
    ) -> dict[str, Any]:
        return {"runs": api().jobs.runs(spider, last)}

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    return app


def _json_batch(body: bytes) -> tuple[str, int]:
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _problem(400, f"the body is not JSON: {exc.msg} at position {exc.pos}") from None
    except UnicodeDecodeError:
        raise _problem(400, "the body is not JSON: it is not UTF-8 text") from None
    if not isinstance(data, list):
        raise _problem(422, "the body must be a JSON array of leads")
    try:
        leads = BATCH.validate_python(data)
    except ValidationError as exc:
        problems = [
            f"item {'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:10]
        ]
        raise _problem(422, "; ".join(problems)) from None
    lines = [json.dumps(lead.model_dump(exclude_none=True), ensure_ascii=False) for lead in leads]
    return "\n".join(lines) + "\n", len(lines)


def _csv_batch(body: bytes) -> tuple[str, int]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("cp1252", errors="replace")
    try:
        source = open_text_csv(text, "body.csv")
        if source.columns is None or not any(source.columns.fields):
            raise IntakeError("no column is a name, e-mail, phone, site, social profile or CNPJ")
        rows = sum(1 for _ in source.rows)
    except IntakeError as exc:
        raise _problem(422, str(exc)) from None
    except csv.Error as exc:
        raise _problem(400, f"the body is not readable CSV ({exc})") from None
    return text, rows
