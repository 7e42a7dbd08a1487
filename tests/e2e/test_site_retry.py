"""A site that is down is retried by a later run, and the lead gets its contacts then."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.e2e.test_e2e_kiwify import leads

SITE = "https://www.ceramicavoltaamanha.com.br/"


def test_a_failed_site_visit_keeps_the_lead_and_is_retried(
    run_crawl, fixture_web, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    fixture_web.reset_sequences()
    first = run_crawl("site", sqlite_url, f"urls={SITE}")
    assert first.returncode == 0, first.log[-3000:]
    assert "'leadcrawler/enrich/site/failed': 1" in first.log
    [lead] = leads(sqlite_url)  # never dropped: its own domain identifies it
    assert lead["domain"] == "ceramicavoltaamanha.com.br"
    assert lead["contacts"] == []

    env = {**os.environ, **fixture_web.proxy_env(), "SCRAPY_PROJECT": "test"}
    retried = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadcrawler.cli",
            "enrich",
            "--retry-failed",
            "--database-url",
            sqlite_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert retried.returncode == 0, retried.stderr[-3000:]
    assert "Website visits retried for 1 lead(s): 1 read, 0 failed again" in retried.stdout
    [again] = leads(sqlite_url)
    assert again["lead_id"] == lead["lead_id"]  # the same lead, now with its contacts
    values = {(c["kind"], c["value"]) for c in again["contacts"]}
    assert ("email", "helena@ceramicavoltaamanha.com.br") in values
    assert ("whatsapp", "+5541991234567") in values
    assert again["name"] == "Cerâmica Volta Amanhã"

    nothing_left = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadcrawler.cli",
            "enrich",
            "--retry-failed",
            "--database-url",
            sqlite_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Website visits retried for 0 lead(s)" in nothing_left.stdout
