"""The benchmark's load generator takes its secrets from the environment, never from argv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, **secrets: str) -> subprocess.CompletedProcess:
    (tmp_path / "devices.json").write_text("[]")
    env = {k: v for k, v in os.environ.items() if k not in ("DEVICE_LOOKUP_API_KEY", "BENCH_TOKEN")}
    argv = [sys.executable, "-m", "bench.load", "--url", "http://127.0.0.1:9"]
    argv += ["--devices", str(tmp_path / "devices.json"), "--out", str(tmp_path / "load.json")]
    return subprocess.run(
        argv, cwd=ROOT, env={**env, **secrets}, capture_output=True, text=True, check=False
    )


def test_a_key_that_starts_with_a_dash_is_read(tmp_path):
    # secrets.token_urlsafe starts with '-' about one time in 64: argparse took it for an option.
    out = load(tmp_path, DEVICE_LOOKUP_API_KEY="-mB6Gx0Qk", BENCH_TOKEN="-tok")
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "load.json").read_text())["records"] == []


def test_a_missing_secret_is_named(tmp_path):
    out = load(tmp_path, BENCH_TOKEN="t")
    assert out.returncode == 1
    assert "set DEVICE_LOOKUP_API_KEY" in out.stderr
