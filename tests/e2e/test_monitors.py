"""Per-run metrics, baselines and alerts: unit checks, then real crawls with a local webhook,
and the report (text and HTML rendered in headless Chromium)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtureweb import FixtureWeb
from leadcrawler.monitors.alerts import AlertConfig, evaluate
from leadcrawler.monitors.metrics import run_metrics
from tests.conftest import FIXTURES, ROOT, service_missing

BROKEN = [f"https://pay.kiwify.com.br/Err500{c}" for c in "abcdefgh"]

EXPECTED = json.loads((FIXTURES / "kiwify_expected.json").read_text("utf-8"))
ALL_URLS = [c["url"] for c in EXPECTED["checkouts"]] + [s["url"] for s in EXPECTED["short_links"]]


def healthy(**over: Any) -> dict[str, Any]:
    metrics = {
        "source": "kiwify", "finish_reason": "finished", "leads_extracted": 9,
        "extraction_success_rate": 90.0, "coverage": {"email": 40.0, "phone": 30.0},
        "http_error_rate": 5.0, "ban_rate": 0.0, "circuits_open_at_end": 0, "leads_parked": 0,
    }  # fmt: skip
    return {**metrics, **over}


def names(metrics: dict[str, Any], history: list[dict[str, Any]]) -> set[str]:
    return {a.name for a in evaluate(metrics, history, AlertConfig())}


def test_a_healthy_run_like_its_baseline_raises_nothing() -> None:
    assert names(healthy(), [healthy()] * 5) == set()


def test_each_condition_raises_its_alert() -> None:
    history = [healthy(), healthy(leads_extracted=7), healthy(leads_extracted=11)]
    assert names(healthy(leads_extracted=0), history) == {"zero_leads"}
    assert names(healthy(extraction_success_rate=30.0), history) == {"extraction_drop"}
    assert names(healthy(coverage={"email": 10.0, "phone": 30.0}), history) == {"coverage_drop"}
    assert names(healthy(http_error_rate=35.0), history) == {"error_rate"}
    assert names(healthy(ban_rate=12.5), history) == {"ban_rate"}
    assert names(healthy(circuits_open_at_end=1), history) == {"circuit_open"}
    assert names(healthy(finish_reason="closespider_timeout"), history) == {"finish_reason"}
    assert names(healthy(leads_parked=2), history) == {"leads_parked"}


def test_no_baseline_alerts_for_a_new_source() -> None:
    # Two earlier runs are fewer than ALERTS_BASELINE_MIN_RUNS (3): no baseline yet.
    assert names(healthy(leads_extracted=0), [healthy(), healthy()]) == set()
    # A source that never yielded leads is not "broken" when it yields none again.
    assert names(healthy(leads_extracted=0), [healthy(leads_extracted=0)] * 5) == set()


def test_metrics_come_from_the_final_stats() -> None:
    stats = {
        "kiwify/page/parsed": 10, "kiwify/extract/no_lead": 2, "kiwify/extract/meta/product": 8,
        "kiwify/extract/text/seller": 5, "kiwify/extract/render/requested": 2,
        "downloader/response_count": 18, "downloader/exception_count": 2,
        "downloader/response_status_count/200": 12, "downloader/response_status_count/403": 3,
        "downloader/response_status_count/500": 3, "leadcrawler/circuit_breaker/opened": 2,
        "leadcrawler/circuit_breaker/closed": 1, "leadcrawler/persist/received": 8,
        "leadcrawler/persist/created": 5, "leadcrawler/persist/updated": 2,
        "leadcrawler/extract/seconds": 0.5, "leadcrawler/extract/responses": 20,
    }  # fmt: skip
    m = run_metrics(stats, "kiwify", "shutdown")
    assert m["pages"] == 10 and m["leads_extracted"] == 8
    assert m["extraction_success_rate"] == 80.0
    assert m["rungs"] == {"meta": 8, "text": 5}
    assert m["http_error_rate"] == 40.0  # (3 + 3 + 2 network errors) of 20 attempts
    assert m["ban_rate"] == 15.0
    assert m["circuits_open_at_end"] == 1
    assert m["leads_parked"] == 1
    assert m["extract_seconds_per_page"] == 0.025
    assert m["finish_reason"] == "shutdown"


def test_the_spidermon_suite_raises_delivers_and_stores_the_alerts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from leadcrawler.monitors.alerts import baselines
    from leadcrawler.monitors.extension import RunCheck
    from leadcrawler.monitors.spidermon import LoggedMonitorRunner
    from leadcrawler.monitors.suite import RunAlerts

    class Store:
        def __init__(self) -> None:
            self.recorded: list[dict[str, Any]] = []

        def record(self, run_id: int, **row: Any) -> int:
            self.recorded.append(row)
            return run_id

    history = [healthy(), healthy(leads_extracted=7), healthy(leads_extracted=11)]
    config = AlertConfig()

    def check(metrics: dict[str, Any]) -> RunCheck:
        return RunCheck(
            spider="kiwify", source="kiwify", run_id=7, metrics=metrics,
            baselines=baselines(metrics, history, config), config=config, store=Store(),  # type: ignore[arg-type]
            counts={}, started_at=None,
        )  # fmt: skip

    calm = check(healthy())
    LoggedMonitorRunner(spider=None).run(RunAlerts(), stats={}, run=calm)
    assert calm.alerts == [] and calm.store.recorded == []  # type: ignore[attr-defined]

    broken = check(healthy(leads_extracted=0, http_error_rate=90.0))
    with caplog.at_level("INFO"):
        LoggedMonitorRunner(spider=None).run(RunAlerts(), stats={}, run=broken)
    assert {a.name for a in broken.alerts} == {"zero_leads", "error_rate"}
    stored = broken.store.recorded[-1]["metrics"]["alerts"]  # type: ignore[attr-defined]
    assert {a["name"] for a in stored} == {"zero_leads", "error_rate"}
    assert "ALERT zero_leads: kiwify: no lead extracted" in caplog.text
    assert "FAIL: zero_leads/test_condition: kiwify: no lead extracted" in caplog.text
    assert "Traceback" not in caplog.text  # a failed monitor is one line, not a traceback


def test_a_webhook_that_never_answers_does_not_hang_the_crawl() -> None:
    import socket
    import time

    from leadcrawler.monitors.alerts import deliver

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts the connection, never answers
    try:
        config = AlertConfig(
            webhook_url=f"http://127.0.0.1:{silent.getsockname()[1]}/hook", webhook_timeout=0.5
        )
        alerts = evaluate(healthy(finish_reason="shutdown"), [], config)
        started = time.monotonic()
        assert deliver(alerts, "kiwify", 1, config) is False
        assert time.monotonic() - started < 5
    finally:
        silent.close()


# --- real crawls -------------------------------------------------------------------------


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), ReceiverHandler)


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def crawl(web: FixtureWeb, database_url: str, urls: list[str], webhook: str, tmp: Path) -> str:
    env = {
        **os.environ,
        **web.proxy_env(),
        "no_proxy": "127.0.0.1",  # the webhook receiver is local; pages go through the proxy
        "NO_PROXY": "127.0.0.1",
        "SCRAPY_PROJECT": "test",
        "DATABASE_URL": database_url,
        "ALERTS_WEBHOOK_URL": webhook,
    }
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [
        sys.executable, "-m", "scrapy", "crawl", "kiwify", "-a", "urls=" + ",".join(urls),
        "-s", "ALERTS_BASELINE_MIN_RUNS=2", "-s", f"PERSIST_SPILL_DIR={tmp / 'unsaved'}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stderr


@pytest.fixture(scope="module")
def history(
    fixture_web: FixtureWeb, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Receiver, str, list[str]]:
    """Two healthy kiwify runs (the baseline), then one where kiwify answers only 500s."""
    tmp_path = tmp_path_factory.mktemp("monitors")
    sqlite_url = f"sqlite:///{tmp_path / 'leads.sqlite3'}"
    webhook = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/T000/B000/XXXX"
    logs = [crawl(fixture_web, sqlite_url, ALL_URLS, webhook, tmp_path) for _ in range(2)]
    logs.append(crawl(fixture_web, sqlite_url, BROKEN, webhook, tmp_path))
    return receiver, sqlite_url, logs


def test_a_broken_source_alerts_the_webhook_and_a_healthy_one_does_not(history) -> None:  # type: ignore[no-untyped-def]
    receiver, _url, logs = history
    # The two healthy runs sent nothing; the broken run sent one message.
    assert len(receiver.posts) == 1, receiver.posts
    post = receiver.posts[0]
    assert post["text"].startswith("leadcrawler: ")  # Slack-compatible: text + blocks
    assert post["blocks"][0]["type"] == "header"
    raised = {a["name"] for a in post["alerts"]}
    assert {"zero_leads", "error_rate"} <= raised
    assert "kiwify" in post["text"]
    assert "ALERT zero_leads" in logs[2]
    assert "ALERT" not in logs[0] + logs[1]
    assert "/hooks/T000" not in logs[2]  # the webhook URL (a secret) is never logged
    # The alerts ran as the Spidermon suite at spider close: it passed twice, then failed.
    assert "[Spidermon] zero_leads/test_condition... OK" in logs[0]
    assert "[Spidermon] zero_leads/test_condition... FAIL" in logs[2]
    assert "[Spidermon] DeliverAlerts... OK" in logs[2]
    assert not any("DeprecationWarning" in log for log in logs)  # no Spider.log from Spidermon


def test_report_table_and_html_charts(history, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _receiver, url, _logs = history
    env = {**os.environ, "DATABASE_URL": url}
    table = subprocess.run(
        [str(Path(sys.executable).parent / "leadcrawler"), "report", "--last", "5"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "== kiwify: 3 run(s) =="
    assert "zero_leads" in lines[-1] and "error_rate" in lines[-1]
    page = tmp_path / "report.html"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "leadcrawler"), "report", "--html", str(page)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = page.read_text("utf-8")
    assert "<script src" not in source and "<link" not in source  # nothing from elsewhere

    chromium = shutil.which("chromium")
    if chromium is None:
        service_missing("Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        tab = browser.new_page()
        fetched: list[str] = []
        tab.on("request", lambda r: fetched.append(r.url))
        tab.goto(page.as_uri())
        charts = tab.eval_on_selector_all(
            "figure.chart",
            """figs => figs.map(f => ({
                id: f.id,
                width: f.querySelector('svg').getBoundingClientRect().width,
                lines: f.querySelectorAll('polyline.series').length,
                points: f.querySelectorAll('circle.point').length,
                thresholds: [...f.querySelectorAll('line.threshold')].map(l => l.dataset.value),
            }))""",
        )
        alerts = tab.inner_text("ul.alerts")
        browser.close()
    by_id = {c["id"]: c for c in charts}
    assert {"leads", "extraction", "errors", "bans"} <= set(by_id)
    assert all(c["width"] > 300 for c in charts)  # drawn, not empty boxes
    assert by_id["leads"]["points"] == 3 and by_id["leads"]["lines"] == 1
    assert by_id["errors"]["thresholds"] == ["20"]  # ALERTS_MAX_ERROR_RATE drawn in
    assert by_id["bans"]["thresholds"] == ["5"]
    assert by_id["extraction"]["thresholds"]  # half of kiwify's median success
    assert "zero_leads" in alerts
    assert fetched == [page.as_uri()]  # self-contained: nothing else was requested
