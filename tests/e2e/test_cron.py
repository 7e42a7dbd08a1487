"""The README's crontab, command by command, under `env -i` with only what cron gives a job
and the one variable the crontab sets."""

from __future__ import annotations

import fcntl
import re
import shlex
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from fixtureweb import FixtureWeb
from leadcrawler.storage.models import FrontierUrl, LeadRow, Run
from leadcrawler.storage.store import open_store
from tests.conftest import ROOT

CHECKOUT = "/opt/leadcrawler"


def crontab() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(variables, [(job name, command)]) from the README's ```crontab block."""
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```crontab\n(.*?)```", readme, re.S)
    assert block, "the README documents a crontab"
    variables: dict[str, str] = {}
    jobs: list[tuple[str, str]] = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            variables[name] = value
            continue
        command = line.split(None, 5)[5]
        words = shlex.split(command)
        jobs.append((words[2] if words[1] == "--jobdir" else words[1], command))
    return variables, jobs


def cron_env(variables: dict[str, str], env_file: Path) -> list[str]:
    """What cron gives a job (HOME, LOGNAME, SHELL, PATH) and the crontab's variables."""
    env = {
        "HOME": "/root",
        "LOGNAME": "root",
        "SHELL": "/bin/sh",
        "PATH": "/usr/bin:/bin",
        **{k: v.replace(f"{CHECKOUT}/cron.env", str(env_file)) for k, v in variables.items()},
    }
    return ["env", "-i", *(f"{k}={v}" for k, v in env.items())]


def test_every_documented_cron_line_runs_from_a_bare_environment(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    variables, jobs = crontab()
    assert variables == {"LEADCRAWLER_ENV_FILE": f"{CHECKOUT}/cron.env"}
    assert {name for name, _ in jobs} >= {"serp", "wayback", "kiwify", "enrich", "export", "report"}
    data = tmp_path / "data"
    database_url = f"sqlite:///{tmp_path / 'base.sqlite3'}"
    env_file = tmp_path / "cron.env"
    proxy = fixture_web.proxy_env()
    env_file.write_text(
        f"DATABASE_URL={database_url}\n"
        "SCRAPY_PROJECT=test\n"  # the test settings: no DNS leaves the machine, no delays
        "SERP_SEARXNG_URL=https://busca.fixtures.com.br\n"
        f"http_proxy={proxy['http_proxy']}\nhttps_proxy={proxy['https_proxy']}\n"
        f"LEADCRAWLER_LOG_DIR={data / 'logs'}\nLEADCRAWLER_LOCK_DIR={data / 'locks'}\n"
        f"LEADCRAWLER_JOBS_DIR={data / 'jobs'}\nLEADCRAWLER_EXPORT_DIR={data / 'exports'}\n",
        "utf-8",
    )
    env_file.chmod(0o600)
    prefix = cron_env(variables, env_file)
    for name, command in jobs:
        command = command.replace(f"{CHECKOUT}/data", str(data)).replace(CHECKOUT, str(ROOT))
        done = subprocess.run(
            [*prefix, "/bin/sh", "-c", command],
            cwd="/",
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = (data / "logs" / f"{name}.log").read_text("utf-8")
        assert done.returncode == 0, f"{name}: {done.stderr}\n{log[-3000:]}"
        assert "Traceback" not in log, log[-3000:]
        assert f"cron-run: {name} exited with 0" in log

    store = open_store(database_url)
    with store.sessions() as session:
        frontier = session.scalar(select(func.count()).select_from(FrontierUrl))
        leads = session.scalar(select(func.count()).select_from(LeadRow))
        spiders = set(session.scalars(select(Run.spider)))
    store.engine.dispose()
    assert frontier, "discovery filled the frontier"
    assert leads, "the platform spiders drained it into leads"
    assert {"serp", "wayback", "kiwify", "hubla", "hotmart"} <= spiders
    export = data / "exports" / "leads-delta.csv"
    assert export.read_bytes().startswith(b"\xef\xbb\xbf")
    assert (data / "exports" / "report.html").read_text("utf-8").count("<svg") >= 4
    assert (data / "jobs" / "wayback").is_dir()  # JOBDIR for the long discovery crawl

    # A second kiwify run while the first still holds the lock: skipped, nothing crawled.
    runs_before = len(spiders)
    kiwify = dict(jobs)["kiwify"].replace(CHECKOUT, str(ROOT))
    with (data / "locks" / "kiwify.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = subprocess.run(
            [*prefix, "/bin/sh", "-c", kiwify], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0
    assert "still running; skipped" in done.stderr
    store = open_store(database_url)
    with store.sessions() as session:
        assert len(set(session.scalars(select(Run.spider)))) == runs_before
        kiwify_runs = session.scalar(select(func.count()).where(Run.spider == "kiwify"))
    store.engine.dispose()
    assert kiwify_runs == 1
