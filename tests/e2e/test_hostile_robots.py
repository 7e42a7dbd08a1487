"""A 20 MB robots.txt that allows everything is read, not treated as unreachable (RFC 9309 2.5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fixtureweb import FixtureWeb
from tests.conftest import FIXTURES, ROOT
from tests.e2e.test_e2e_kiwify import leads


def test_a_20_mb_robots_txt_is_parsed_from_its_first_500_kib(tmp_path: Path) -> None:
    web_root = tmp_path / "web"
    host = web_root / "pay.kiwify.com.br"
    host.mkdir(parents=True)
    shutil.copy(FIXTURES / "web" / "pay.kiwify.com.br" / "Fn8kQ2z.html", host)
    comment = b"# " + b"x" * 97 + b"\n"
    with (host / "robots.txt").open("wb") as robots:
        robots.write(b"User-agent: *\nAllow: /\n")
        robots.write(comment * (20 * 1024 * 1024 // len(comment)))
    url = f"sqlite:///{tmp_path / 'base.sqlite3'}"
    with FixtureWeb(web_root) as web:
        env = {**os.environ, **web.proxy_env(), "SCRAPY_PROJECT": "test", "DATABASE_URL": url}
        done = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "kiwify", "-a",
             "urls=https://pay.kiwify.com.br/Fn8kQ2z"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'leadcrawler/robots/outcome/parsed': 1" in done.stderr, done.stderr[-3000:]
    assert "'leadcrawler/robots/truncated': 1" in done.stderr
    assert "disallow_all" not in done.stderr
    assert len(leads(url)) == 1
