"""The benchmark's load generator takes its secrets from the environment, never from argv."""

from __future__ import annotations

import json

import pytest

from bench import load


@pytest.fixture
def run_load(tmp_path, monkeypatch):
    (tmp_path / "devices.json").write_text("[]")
    argv = [
        "bench.load",
        "--url",
        "http://127.0.0.1:9",
        "--devices",
        str(tmp_path / "devices.json"),
    ]
    monkeypatch.setattr("sys.argv", [*argv, "--out", str(tmp_path / "load.json")])
    monkeypatch.delenv("DEVICE_LOOKUP_API_KEY", raising=False)
    monkeypatch.delenv("BENCH_TOKEN", raising=False)

    def run(**secrets: str) -> dict:
        for name, value in secrets.items():
            monkeypatch.setenv(name, value)
        assert load.main() == 0
        return json.loads((tmp_path / "load.json").read_text())

    return run


def test_a_key_that_starts_with_a_dash_is_read(run_load):
    # secrets.token_urlsafe starts with '-' about one time in 64: argparse took it for an option.
    assert run_load(DEVICE_LOOKUP_API_KEY="-mB6Gx0Qk", BENCH_TOKEN="-tok")["records"] == []


def test_a_missing_secret_is_named(run_load):
    with pytest.raises(SystemExit, match="set DEVICE_LOOKUP_API_KEY"):
        run_load(BENCH_TOKEN="t")
