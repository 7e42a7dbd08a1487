"""`leadcrawler serve`: a real uvicorn on 127.0.0.1, a token, a batch that ends as leads."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests"
OTHER_TOKEN = "second-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    database_url: str, tmp_path: Path, *extra: str, token: str | None = None
) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SCRAPY_PROJECT": "test"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    env.pop("LEADCRAWLER_API_TOKEN", None)
    if token is not None:
        env["LEADCRAWLER_API_TOKEN"] = token
    log = (tmp_path / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "leadcrawler.cli", "serve", "--port", str(port),
         "--database-url", database_url, "--skip-sites",
         "-s", "ENRICH_DNS_ENABLED=false", "-s", f"API_SPOOL_DIR={tmp_path / 'spool'}",
         "-s", "API_WORKER_POLL=0.2", "-s", "API_MAX_BODY_BYTES=20000", "-s", "API_MAX_ROWS=50",
         *extra],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def call(
    url: str,
    body: bytes | None = None,
    token: str | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for_job(base: str, job_id: str, token: str = TOKEN) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, job = call(f"{base}/v1/jobs/{job_id}", token=token)
        assert status == 200
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError("the job never finished")


BATCH = [
    {"name": "Ana Doces", "email": "ANA@anadoces.com.br", "phone": "(11) 98765-4321"},
    {"name": "Ana", "email": "ana@anadoces.com.br", "whatsapp": "+5511987654321"},
    {"name": "Bruno Cursos", "email": "bruno@brunocursos.com.br", "instagram": "@brunocursos"},
    {"name": "Só nome"},
    {"name": "Carla", "email": "carla@@errado", "phone": "123"},
]


def test_tokens_batches_and_reads(pg_url: str, tmp_path: Path) -> None:
    with serve(pg_url, tmp_path, token=f"{TOKEN},{OTHER_TOKEN}") as base:
        assert call(base + "/health") == (200, {"status": "ok"})
        assert call(base + "/v1/leads")[0] == 401
        assert call(base + "/v1/leads", token="wrong")[0] == 401
        assert call(base + "/v1/raw-leads", json.dumps(BATCH).encode())[0] == 401

        status, queued = call(base + "/v1/raw-leads", json.dumps(BATCH).encode(), TOKEN)
        assert status == 202
        assert queued["rows"] == 5
        job = wait_for_job(base, queued["job_id"])
        assert job["status"] == "done", job
        summary = job["summary"]
        assert summary["rows_read"] == 5
        assert summary["leads_created"] + summary["rows_merged"] == 3
        assert sorted(r["item"] for r in summary["rejects"]) == [3, 4]

        status, page = call(base + "/v1/leads?limit=1", token=OTHER_TOKEN)
        assert status == 200
        assert len(page["leads"]) == 1
        assert page["next_cursor"]
        status, rest = call(f"{base}/v1/leads?limit=10&cursor={page['next_cursor']}", token=TOKEN)
        leads = page["leads"] + rest["leads"]
        assert rest["next_cursor"] is None
        assert sorted(lead["email"] for lead in leads) == [
            "ana@anadoces.com.br",
            "bruno@brunocursos.com.br",
        ]
        assert set(leads[0]) >= {"lead_id", "name", "email", "phones", "score", "tier", "presence"}
        ana = next(lead for lead in leads if lead["email"] == "ana@anadoces.com.br")
        status, detail = call(f"{base}/v1/leads/{ana['lead_id']}", token=TOKEN)
        assert status == 200
        assert {c["source_url"] for c in detail["contacts"]} >= {
            f"import:job-{queued['job_id']}.jsonl#1"
        }
        assert len(detail["sightings"]) == 2
        status, runs = call(base + "/v1/runs?spider=intake", token=TOKEN)
        assert status == 200
        assert runs["runs"][0]["counts"]["leadcrawler/intake/rows_read"] == 5

        status, csv_job = call(
            base + "/v1/raw-leads",
            b"Nome;E-mail\r\nDani;dani@danidoces.com.br\r\n",
            TOKEN,
            content_type="text/csv",
        )
        assert status == 202
        assert wait_for_job(base, csv_job["job_id"])["summary"]["leads_created"] == 1


BAD_BODIES = [
    (b"x" * 30_000, "application/json", 413),
    (
        json.dumps([{"name": "n", "email": f"a{i}@b.com.br"} for i in range(60)]).encode(),
        "application/json",
        413,
    ),
    (b"{not json", "application/json", 400),
    (b'{"name": "x"}', "application/json", 422),
    (b'[{"nome": "x", "email": "a@b.com.br"}]', "application/json", 422),
    (b'[{"email": 12}]', "application/json", 422),
    (b"[]", "application/json", 422),
    (b"Observacoes\r\nx\r\n", "text/csv", 422),
    (b"<xml/>", "application/xml", 415),
]


def test_bad_bodies_are_refused_with_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    with serve(sqlite_url, tmp_path, "--no-worker", token=TOKEN) as base:
        for body, content_type, status in BAD_BODIES:
            got, answer = call(base + "/v1/raw-leads", body, TOKEN, content_type)
            assert (got, bool(answer["error"])) == (status, True), (body[:40], answer)
        status, answer = call(base + "/v1/leads?cursor=garbage", token=TOKEN)
        assert status == 400
        assert "cursor" in answer["error"]
        log = "".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
    assert "a@b.com.br" not in log  # ids and routes only
    assert "POST /v1/raw-leads -> 413" in log


def test_a_batch_survives_a_restart(sqlite_url: str, tmp_path: Path) -> None:
    with serve(sqlite_url, tmp_path, "--no-worker", token=TOKEN) as base:
        status, queued = call(base + "/v1/raw-leads", json.dumps(BATCH[:1]).encode(), TOKEN)
        assert status == 202
    with serve(sqlite_url, tmp_path, token=TOKEN) as base:
        job = wait_for_job(base, queued["job_id"])
    assert job["status"] == "done"
    assert job["summary"]["leads_created"] == 1


def test_no_token_no_public_address(sqlite_url: str) -> None:
    env = {**os.environ}
    env.pop("LEADCRAWLER_API_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", "serve", "--host", "0.0.0.0", "--database-url", sqlite_url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0 without a token" in done.stderr


def status_of(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_PROJECT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "leadcrawler.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_docs_need_the_token_and_suppressed_people_are_never_served(
    sqlite_url: str, tmp_path: Path
) -> None:
    with serve(sqlite_url, tmp_path, token=TOKEN) as base:
        # Every route but /health needs the token, the schema and its page included.
        assert status_of(base + "/openapi.json") == 401
        assert status_of(base + "/docs") == 401
        assert status_of(base + "/openapi.json", TOKEN) == 200
        assert status_of(base + "/docs", TOKEN) == 200

        status, queued = call(base + "/v1/raw-leads", json.dumps(BATCH[:3]).encode(), TOKEN)
        assert status == 202
        assert wait_for_job(base, queued["job_id"])["status"] == "done"
        status, page = call(base + "/v1/leads", token=TOKEN)
        ana = next(lead for lead in page["leads"] if lead["email"] == "ana@anadoces.com.br")

        # Opposition (another letter case, another phone spelling): gone from every read.
        done = cli("suppress", "Ana@AnaDoces.com.br", "--database-url", sqlite_url)
        assert done.returncode == 0, done.stderr
        status, page = call(base + "/v1/leads", token=TOKEN)
        assert status == 200
        assert [lead["email"] for lead in page["leads"]] == ["bruno@brunocursos.com.br"]
        assert call(f"{base}/v1/leads/{ana['lead_id']}", token=TOKEN)[0] == 404

        # Forget: the lead and its keys go; a new batch naming her is not stored again.
        done = cli("forget", "+55 (11) 98765-4321", "--database-url", sqlite_url)
        assert done.returncode == 0, done.stderr
        status, again = call(base + "/v1/raw-leads", json.dumps(BATCH[:1]).encode(), TOKEN)
        assert wait_for_job(base, again["job_id"])["status"] == "done"
        status, page = call(base + "/v1/leads", token=TOKEN)
        assert [lead["email"] for lead in page["leads"]] == ["bruno@brunocursos.com.br"]

    # Each read is in the audit log, by lead id only.
    from sqlalchemy import create_engine, text

    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        reads = conn.execute(
            text("SELECT lead_uids, details FROM audit_log WHERE action = 'api_read'")
        ).all()
    engine.dispose()
    assert len(reads) >= 3
    assert all("@" not in str(row) for row in reads)
