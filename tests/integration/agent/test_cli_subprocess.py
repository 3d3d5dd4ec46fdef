"""The agent as the ramdisk runs it: `python3 -m arrow_agent` from a checkout with
PYTHONPATH=agent, no install step, no third-party package on the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.fakeroot import FIXTURES, NUC_MACS

CHECKOUT = Path(__file__).resolve().parents[3]


def agent(*argv: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ARROW_") and key != "DEVICE_LOOKUP_API_KEY"
    }
    environ["PYTHONPATH"] = "agent"
    return subprocess.run(
        # -S: no site-packages, so a third-party import would fail here as in the ramdisk.
        [sys.executable, "-S", "-m", "arrow_agent", *argv],
        cwd=CHECKOUT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_collect_dry_run_on_a_fake_root(machine):
    done = agent("collect", "--root", str(machine.path), "--dry-run")
    assert done.returncode == 0, done.stderr
    inventory = json.loads(done.stdout)["inventory_data"]
    assert inventory["mac_address"] == NUC_MACS
    assert inventory["device_spec"] == "Intel Client Systems NUC11TNHi5"
    assert inventory["device_name"] == "PVE-91792126"
    assert "net: enp86s0:1c:69:7a:0a:1b:2c, wlo1:60:dd:8e:12:34:56" in done.stderr


def test_parse_dmidecode_of_a_crlf_dump():
    done = agent("parse", "dmidecode", str(FIXTURES / "dmidecode/asus-m3a78-cm-junk-crlf.txt"))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert (output["serial_number"], output["sn_source"]) == ("MF7097G05100710", "bios")


def test_collect_waits_for_the_network_file_before_it_collects(machine, tmp_path):
    """/init starts the agent before DHCP and creates the file once an interface has an
    address; the agent collects only then."""
    ready = tmp_path / "network.ready"
    timer = threading.Timer(1.0, ready.touch)
    timer.start()
    started = time.monotonic()
    try:
        done = agent("collect", "--root", str(machine.path), "--dry-run", "--wait-for", str(ready))
    finally:
        timer.cancel()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1.0
    assert json.loads(done.stdout)["inventory_data"]["mac_address"] == NUC_MACS


def test_the_cli_loads_no_collector_and_no_http_client_before_the_early_listener():
    """collect starts LLDP listening before these imports, which take over a second on one
    emulated core (lldp_early), so the window runs while they load."""
    heavy = ("arrow_agent.inventory", "arrow_agent.submit", "subprocess", "http.client", "ssl")
    code = f"import sys, arrow_agent.cli; print(sorted(set({heavy!r}) & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=CHECKOUT,
        env={"PYTHONPATH": "agent"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_collect_without_a_server_exits_2(machine):
    done = agent("collect", "--root", str(machine.path))
    assert done.returncode == 2
    assert "config: no server" in done.stderr


def test_help_lists_the_exit_codes():
    done = agent("--help")
    assert done.returncode == 0
    assert "3 the backend refused the inventory (4xx or a redirect); not retried" in done.stdout
