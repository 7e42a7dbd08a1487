"""A throw-away PostgreSQL cluster a fault test may stop and start (never the shared server).

``initdb`` + ``pg_ctl`` as the ``postgres`` user, in a temporary directory, on a free port,
trust auth on 127.0.0.1 only. ``stop()`` is an immediate shutdown (what a crash or a
failover looks like to a client); ``start()`` brings the same data back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> str | None:
    """None when a cluster can be made here, else why not."""
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return "initdb/pg_ctl not found"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "must run as root or postgres"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="leadcrawler-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"
        self._user = pwd.getpwnam("postgres")

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = [] if os.geteuid() == self._user.pw_uid else ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*prefix, *command],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.dir,
        )

    def create(self) -> ThrowawayPostgres:
        os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
        initdb = _binary("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        return self

    def start(self) -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.create()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()
