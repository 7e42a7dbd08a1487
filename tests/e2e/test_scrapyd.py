"""Deploy to a real Scrapyd (basic auth, loopback, free port) and run a scheduled crawl."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.storage.store import open_store
from tests.conftest import ROOT

BIN = Path(sys.executable).parent
USER, PASSWORD = "ops", "s3cret-for-tests"
URLS = ["https://pay.kiwify.com.br/Fn8kQ2z", "https://pay.kiwify.com.br/7rTbW3x"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scrapyd:
    def __init__(self, url: str, logs: Path, items: Path) -> None:
        self.url = url
        self.logs = logs
        self.items = items

    def call(
        self, endpoint: str, data: dict[str, Any] | list[tuple[str, str]] | bytes | None = None,
        *, auth: bool = True, headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:  # fmt: skip
        body = (
            data
            if isinstance(data, bytes) or data is None
            else urllib.parse.urlencode(data).encode()
        )
        request = urllib.request.Request(self.url + endpoint, data=body, headers=headers or {})
        if auth:
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {}


@pytest.fixture
def scrapyd(fixture_web: FixtureWeb, tmp_path: Path) -> Iterator[Scrapyd]:
    port = free_port()
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"username = {USER}\n"
        f"password = {PASSWORD}\n"
        "eggs_dir = eggs\nlogs_dir = logs\nitems_dir = items\ndbs_dir = dbs\n"
        "poll_interval = 0.5\n",
        "utf-8",
    )
    env = {
        **os.environ,
        **fixture_web.proxy_env(),  # the spiders' "internet" is the fixture web
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        # Deployed jobs run the production settings: they refuse to start without these
        # (README, LGPD); an operator sets them in Scrapyd's environment, never in the egg.
        "LEADCRAWLER_PRIVACY_PEPPER": "scrapyd-test-pepper-0123456789",
        "LEADCRAWLER_LIA_REFERENCE": "LIA-TEST-2026",
    }
    for name in ("SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT", "DATABASE_URL"):
        env.pop(name, None)
    log = (tmp_path / "scrapyd.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "scrapyd")], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    daemon = Scrapyd(f"http://127.0.0.1:{port}/", home / "logs", home / "items")
    try:
        for _ in range(100):
            try:
                if daemon.call("daemonstatus.json")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None:
                pytest.fail((tmp_path / "scrapyd.log").read_text())
            time.sleep(0.2)
        else:
            pytest.fail("Scrapyd did not start: " + (tmp_path / "scrapyd.log").read_text())
        yield daemon
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_deploy_and_schedule_a_crawl_on_scrapyd(scrapyd: Scrapyd, tmp_path: Path) -> None:
    # Basic auth is on: no credentials, no service.
    assert scrapyd.call("daemonstatus.json", auth=False)[0] == 401

    egg = tmp_path / "leadcrawler.egg"
    built = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]

    boundary = "leadcrawlerboundary"
    parts = []
    for name, value in (("project", "leadcrawler"), ("version", "r1")):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="egg"; filename="leadcrawler.egg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + egg.read_bytes()
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    code, added = scrapyd.call(
        "addversion.json", b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert code == 200 and added.get("status") == "ok", added
    assert added["spiders"] >= 3  # kiwify, hubla, hotmart and the rest

    database = tmp_path / "base.sqlite3"
    database_url = f"sqlite:///{database}"
    code, job = scrapyd.call(
        "schedule.json",
        [
            ("project", "leadcrawler"),
            ("spider", "kiwify"),
            ("urls", ",".join(URLS)),
            ("setting", f"DATABASE_URL={database_url}"),
            ("setting", "ENRICH_DNS_ENABLED=False"),  # no DNS leaves a test
            ("setting", "AUTOTHROTTLE_ENABLED=False"),
        ],
    )
    assert code == 200 and job.get("status") == "ok", job
    jobid = job["jobid"]

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        _code, jobs = scrapyd.call("listjobs.json?project=leadcrawler")
        finished = [j for j in jobs.get("finished", []) if j["id"] == jobid]
        if finished:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"job {jobid} did not finish: {jobs}")
    log = next(scrapyd.logs.glob(f"leadcrawler/kiwify/{jobid}.log")).read_text("utf-8")
    assert "Traceback" not in log, log[-3000:]
    assert "'finish_reason': 'finished'" in log
    assert "settings.production" in log or "CLOSESPIDER_TIMEOUT" in log  # the egg's settings

    store = open_store(database_url)
    names = {lead["name"] for lead in store.iter_leads()}
    store.engine.dispose()
    assert names == {"Educação Financeira Ltda"}  # both checkouts: one producer
