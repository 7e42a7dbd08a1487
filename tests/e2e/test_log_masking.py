"""Every log line of `scrapy crawl` is masked, not only Scrapy's item lines: a spider or a
stage that logs an address or a number gives no full e-mail or phone away."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SPIDER = textwrap.dedent(
    """
    import scrapy

    class Chatty(scrapy.Spider):
        name = "chatty"

        async def start(self):
            self.logger.warning("wrote to contato@lojadaana.com.br and +55 11 98765-4321")
            return
            yield
    """
)


def test_a_crawl_masks_personal_data_in_every_log_line(tmp_path: Path) -> None:
    spider = tmp_path / "chatty.py"
    spider.write_text(SPIDER, encoding="utf-8")
    env = {**os.environ, "SCRAPY_PROJECT": "test"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "runspider",
            str(spider),
            "-s",
            f"DATABASE_URL=sqlite:///{tmp_path}/leads.sqlite3",
            "-s",
            "LOG_LEVEL=INFO",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "wrote to" in log  # the line is there...
    assert "contato@lojadaana.com.br" not in log  # ...masked
    assert "98765-4321" not in log
