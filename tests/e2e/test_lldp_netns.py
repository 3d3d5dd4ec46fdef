"""LLDP listening against a real lldpd in a network namespace the test creates.

Each "switch" is lldpd in its own namespace on one end of a veth pair; the agent listens on the
other end, in the test's namespace. The veth ends carry no address and no route.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from arrow_agent import lldp_early, run
from arrow_agent.collectors import Failure, lldp, net


class Switch:
    """lldpd in namespace *ns*, speaking every *interval* seconds on the far end of veth *port*."""

    def __init__(self, tmp: Path, name: str, description: str | None, interval: int = 1) -> None:
        tag = uuid.uuid4().hex[:6]
        self.ns, self.port, far = f"arrowlldp-{tag}", f"al{tag}", f"sw{tag}"
        self.proc: subprocess.Popen | None = None
        sh(["ip", "netns", "add", self.ns])
        sh(["ip", "link", "add", self.port, "type", "veth", "peer", "name", far])
        sh(["ip", "link", "set", far, "netns", self.ns])
        sh(["ip", "-n", self.ns, "link", "set", far, "up"])
        sh(["ip", "link", "set", self.port, "up"])
        if description is None:
            return  # a linked port whose far end speaks no LLDP
        conf = tmp / f"{tag}.conf"
        conf.write_text(
            f"configure system hostname {name}\nconfigure lldp tx-interval {interval}\n"
            f'configure ports {far} lldp portdescription "{description}"\n'
        )
        lldpd = ["lldpd", "-d", "-k", "-I", far, "-u", str(tmp / f"{tag}.sock"), "-O", str(conf)]
        with (tmp / f"{tag}.log").open("w") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, *lldpd], stdout=subprocess.DEVNULL, stderr=log
            )

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        subprocess.run(["ip", "link", "del", self.port], check=False)
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


def sh(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def switches():
    """Builds switches on demand; removes their namespaces and links afterwards."""
    if os.geteuid() != 0 or shutil.which("lldpd") is None:
        pytest.fail("LLDP tests need root and lldpd (Debian package lldpd)")
    # lldpd's lldpcli runs unprivileged: its socket and config must sit in a world-readable
    # directory, which pytest's tmp_path (mode 0700) is not.
    tmp_path = Path(tempfile.mkdtemp(prefix="arrow-lldp-"))
    tmp_path.chmod(0o755)
    made: list[Switch] = []

    def make(name: str, description: str | None = "uplink", interval: int = 1) -> Switch:
        made.append(Switch(tmp_path, name, description, interval))
        return made[-1]

    yield make
    for switch in made:
        switch.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_neighbours_of_two_ports_are_heard_at_once_and_listening_stops_early(switches):
    first = switches("sw-rack7", "Gi1/0/7 rack 7")
    second = switches("sw-rack8", "Gi1/0/8 rack 8")
    failures: list[Failure] = []
    started = time.monotonic()
    heard = lldp.collect(failures, [first.port, second.port], wait_s=30)
    elapsed = time.monotonic() - started
    assert [(n.interface, n.system_name, n.port_description) for n in heard] == [
        (first.port, "sw-rack7", "Gi1/0/7 rack 7"),
        (second.port, "sw-rack8", "Gi1/0/8 rack 8"),
    ]
    assert all(n.chassis_id and n.port_id for n in heard)
    assert failures == []
    assert elapsed < 25  # stopped when both had answered, long before the 30 s window


def test_a_linked_port_without_a_speaker_is_reported_after_the_bounded_wait(switches):
    talking = switches("sw-rack7", "Gi1/0/7")
    quiet = switches("unused", description=None)
    failures: list[Failure] = []
    started = time.monotonic()
    heard = lldp.collect(failures, [talking.port, quiet.port], wait_s=4)
    assert time.monotonic() - started < 15  # the 4 s window, with room for a loaded machine
    assert [n.interface for n in heard] == [talking.port]
    assert [f.message for f in failures] == [f"no LLDP neighbour after 4 s on {quiet.port}"]


def test_a_switch_on_its_30_s_schedule_answers_the_agents_announcement_at_once(switches):
    """IEEE 802.1AB-2009 fast transmission: a new neighbour gets frames at once, so the agent's
    short default window hears a switch that otherwise speaks every 30 s."""
    slow = switches("sw-core", "Te1/0/1", interval=30)
    time.sleep(3)  # lldpd's first frame on link up has gone by; the next is 30 s away
    failures: list[Failure] = []
    started = time.monotonic()
    heard = lldp.collect(failures, [slow.port], wait_s=lldp.DEFAULT_WAIT_S)
    assert time.monotonic() - started < lldp.DEFAULT_WAIT_S + 1
    assert [(n.system_name, n.port_description) for n in heard] == [("sw-core", "Te1/0/1")]
    assert failures == []


def test_the_driver_of_a_real_link_is_read_by_the_ethtool_ioctl(switches):
    port = switches("unused", description=None).port
    info = net.parse_drvinfo(run.ethtool_drvinfo(port)).facts
    assert info.driver == "veth"
    assert info.bus_info is None


def test_the_early_listener_joins_a_port_when_it_links_until_told_to_stop(switches):
    """The agent starts it before the links are up: a port that links a second later still
    joins, and a linked port where nothing speaks is listed as listened to, with no
    neighbour; a port that links after the collectors started is left to them."""
    late = switches("sw-rack9", "Gi1/0/9 rack 9")
    quiet = switches("unused", description=None)
    after = switches("sw-after", "Gi1/0/7")
    for port in (late.port, after.port):
        sh(["ip", "link", "set", port, "down"])
    ports = [late.port, quiet.port, after.port, "absent0"]
    early = lldp_early.EarlyListener(4, ports=lambda: ports)
    raise_link = threading.Timer(1.0, sh, [["ip", "link", "set", late.port, "up"]])
    raise_link.start()
    raise_link.join()
    time.sleep(1.0)  # the late port has joined; now the collectors start
    started = time.monotonic()
    early.stop_joining()
    sh(["ip", "link", "set", after.port, "up"])
    heard = early.result(timeout_s=30)
    assert time.monotonic() - started < 20  # one window at most, with room for a loaded machine
    assert heard is not None
    assert set(heard.interfaces) == {late.port, quiet.port}  # "absent0" never linked
    assert [(n.interface, n.system_name) for n in heard.neighbors] == [(late.port, "sw-rack9")]


def test_the_agent_takes_the_early_result_and_listens_itself_only_on_other_ports(switches):
    early_port = switches("unused", description=None).port
    other = switches("sw-rack8", "Gi1/0/8 rack 8")
    before = lldp.Neighbor(interface=early_port, system_name="sw-early", port_id="Gi1/0/1")
    heard = lldp.Heard((early_port,), (before,), (Failure("lldp", "read", "early: note"),))
    failures: list[Failure] = []
    started = time.monotonic()
    neighbors = lldp.collect(failures, [early_port, other.port], wait_s=30, heard=heard)
    assert time.monotonic() - started < 25  # only the other port was listened to, and it spoke
    assert [(n.interface, n.system_name) for n in neighbors] == [
        (early_port, "sw-early"),
        (other.port, "sw-rack8"),
    ]
    assert failures == [Failure("lldp", "read", "early: note")]
