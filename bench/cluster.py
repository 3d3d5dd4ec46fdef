"""Own throwaway PostgreSQL clusters for the benchmark and the fault tests.

Each lives in a new temporary directory on a port of its own, started by `scripts/testdb.sh start`
(which also makes the test suite's clusters), and is stopped and removed by whoever started it.

Our clusters listen below 32768 (DEFAULT_PORT): Linux hands out 32768-60999 as the source ports
of outgoing connections, and under the benchmark's load (thousands of short connections) one of
them can hold the very port a cluster is about to start or restart on ("could not create any
TCP/IP sockets"). That happened here on 54346 and 54358.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 25440  # below the ephemeral port range, see above


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(start: int, tries: int = 50) -> int:
    for port in range(start, start + tries):
        if port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {start}..{start + tries - 1}")


def _as_owner(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root: the cluster belongs to the postgres user then.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    return found[-1]


class PgCluster:
    """A PostgreSQL cluster of our own: `start()` returns its DATABASE_URL."""

    def __init__(self, port: int, *, durable: bool = True, options: str = ""):
        self.port = port
        self.durable = durable
        self.options = options
        self.parent = Path(tempfile.mkdtemp(prefix=f"arrow-pg-{port}-"))
        self.parent.chmod(0o755)  # the postgres user must reach the data directory inside
        self.datadir = self.parent / "data"
        self.url = f"postgres://arrow@127.0.0.1:{port}/arrow"

    def start(self) -> str:
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken; pick another for the cluster")
        return self.restart()

    def restart(self) -> str:
        env = {
            **os.environ,
            "ARROW_PGDATA": str(self.datadir),
            "ARROW_PG_DURABLE": "1" if self.durable else "0",
            "ARROW_PG_OPTIONS": self.options,
        }
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "testdb.sh"), "start", str(self.port)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (mode immediate: as if it crashed); the data stays for restart()."""
        if (self.datadir / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [str(bindir() / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]
                ),
                check=False,
                capture_output=True,
            )

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.parent, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def server_version(self) -> str:
        out = subprocess.run(
            [str(bindir() / "psql"), self.url, "-qtAc", "SHOW server_version"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()
