"""Runs wrk (Debian package wrk) with bench/checkmac.lua and returns its figures.

wrk drives the check-mac phase, where the figure is a throughput ratio: its C event loop spends
about 0.07 ms of CPU per request here (one TCP connection per request), a third of the Python
client's, so it takes less of the two cores from the servers it compares.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "checkmac.lua"


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (make bench does it as root)")
    return path


def run_wrk(url: str, *, macs_file: Path, key: str, concurrency: int, seconds: float) -> dict:
    argv = [
        wrk_path(),
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
        "--",
        str(macs_file),
        key,
    ]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            figures = json.loads(line.removeprefix("WRK_JSON "))
            figures["errors"] = sum(
                figures[k] for k in ("connect", "read", "write", "status", "timeout")
            )
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            return figures
    raise RuntimeError(f"wrk printed no figures: {out.stdout[-500:]} {out.stderr[-500:]}")
