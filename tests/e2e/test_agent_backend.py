"""The agent, as the ramdisk runs it, against the real backend served by the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory.models import Device, Submission
from tests.conftest import SERVICE_KEY
from tests.fakeroot import FakeRoot, nuc

CHECKOUT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def agent_command(root: Path, server: str, key_file: Path) -> list[str]:
    return [
        sys.executable, "-S", "-m", "arrow_agent", "collect", "--root", str(root),
        "--server", server, "--key-file", str(key_file), "--after", "none",
        "--retry-initial", "0.2", "--retry-max", "0.5", "--deadline", "60",
    ]  # fmt: skip


def agent_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARROW_", "DEVICE_LOOKUP"))}
    env["PYTHONPATH"] = "agent"
    return env


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "key"
    path.write_text(SERVICE_KEY + "\n")
    return path


def run_agent(root: Path, server: str, key_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        agent_command(root, server, key_file),
        cwd=CHECKOUT, env=agent_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_agent_inventories_a_fake_nuc_then_updates_it(live_server, demo, tmp_path, key_file):
    machine = nuc(FakeRoot(tmp_path / "machine"))
    done = run_agent(machine.path, live_server.url, key_file)
    assert done.returncode == 0, done.stdout + done.stderr
    assert SERVICE_KEY not in done.stdout + done.stderr

    device = Device.objects.get()
    assert sorted(str(m) for m in device.macs.all()) == [
        "enp86s0:1c:69:7a:0a:1b:2c",
        "wlo1:60:dd:8e:12:34:56",
    ]
    assert device.serial_number == "BTTN20900ABC"
    assert device.sn_source == "bios"
    assert device.spec.name == "Intel NUC 11 Pro"
    assert device.inventory_status == "newly_inventoried"
    assert device.imaging_status == "ready_for_imaging"
    assert device.hardware["agent_version"]

    machine.nic("enp87s0", "1c:69:7a:0a:1b:2d", driver="igc", pci="0000:57:00.0")
    again = run_agent(machine.path, live_server.url, key_file)
    assert again.returncode == 0, again.stdout + again.stderr
    device.refresh_from_db()
    assert device.inventory_status == "updated_via_inventory"
    assert device.macs.count() == 3
    assert Device.objects.count() == 1
    assert Submission.objects.filter(outcome="accepted").count() == 2


def test_agent_retries_while_the_backend_answers_503(
    live_server, demo, tmp_path, key_file, settings
):
    # With no key configured the real backend refuses every call with 503 (fail closed): the
    # agent must keep trying, and succeed once the operator configures the key.
    settings.DEVICE_LOOKUP_API_KEYS = ()
    machine = nuc(FakeRoot(tmp_path / "machine"))
    proc = subprocess.Popen(
        agent_command(machine.path, live_server.url, key_file),
        cwd=CHECKOUT, env=agent_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if "503" in line:
                break
        else:
            pytest.fail("the agent never reported a 503:\n" + "".join(seen))
        assert Device.objects.count() == 0
        settings.DEVICE_LOOKUP_API_KEYS = (SERVICE_KEY,)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(seen) + output
    assert Device.objects.get().serial_number == "BTTN20900ABC"
