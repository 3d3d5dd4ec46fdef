"""The network boot lab leaves nothing behind, even when the test inside it fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.netlab import BRIDGE_IP, NetLab


def failing_test_in(lab: NetLab, seen: dict) -> None:
    """What a scenario does before it fails: a DHCP server, a tap, and then an error."""
    lab.start_site_dhcp()
    tap = lab.tap()
    links = subprocess.run(["ip", "-n", lab.ns, "link"], capture_output=True, text=True).stdout
    seen.update(
        tap_made=tap in links and "site0" in links,
        processes=[process for _name, process in lab._processes],
    )
    raise RuntimeError("the test failed")


def test_a_failing_test_inside_the_lab_leaves_no_namespace_tap_or_process(tmp_path):
    seen: dict = {}
    lab = NetLab(tmp_path / "lab")
    with pytest.raises(RuntimeError, match="the test failed"), lab:
        failing_test_in(lab, seen)
    assert seen["tap_made"]
    assert len(seen["processes"]) == 2  # tcpdump and the site's DHCP server
    assert all(process.poll() is not None for process in seen["processes"])
    assert lab.leftovers() == []
    assert not Path(lab.tftp_root).exists()
    assert BRIDGE_IP not in subprocess.run(["ip", "addr"], capture_output=True, text=True).stdout
