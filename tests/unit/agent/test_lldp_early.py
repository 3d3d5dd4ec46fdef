"""The early LLDP listener: ports join as they appear and link, until the collectors start.

Raw sockets need real interfaces (tests/e2e/test_lldp_netns.py listens on real ones); here a
port that "links" does not exist, so joining it records the failed open, which is enough to
show when it joined.
"""

from __future__ import annotations

import threading

from arrow_agent import lldp_early
from arrow_agent.collectors import lldp


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_with_no_port_ever_linking_joining_ends_when_the_agent_says_so():
    clock = FakeClock()
    heard = lldp_early.listen_as_ports_link(
        lambda: ["eno1", "eno2"],
        3,
        joining=lambda: clock.now < 1.0,
        linked=lambda port: False,
        clock=clock,
        sleep=clock.sleep,
    )
    assert heard == lldp.Heard((), (), ())
    assert 1.0 <= clock.now < 1.0 + 2 * lldp_early.POLL_S


def test_joining_ends_on_its_own_if_the_agent_never_collects():
    clock = FakeClock()
    lldp_early.listen_as_ports_link(
        lambda: [], 3, linked=lambda port: True, clock=clock, sleep=clock.sleep
    )
    assert lldp_early.JOIN_MAX_S <= clock.now < lldp_early.JOIN_MAX_S + 2 * lldp_early.POLL_S


def test_a_port_that_appears_later_joins_when_it_links():
    """A NIC whose driver loads while the agent starts (the listener starts before DHCP)."""
    clock = FakeClock()
    heard = lldp_early.listen_as_ports_link(
        lambda: ["absent1"] if clock.now >= 0.5 else [],
        3,
        joining=lambda: clock.now < 1.0,
        linked=lambda port: clock.now >= 0.7,
        clock=clock,
        sleep=clock.sleep,
    )
    assert heard.interfaces == ("absent1",)
    assert [f.message for f in heard.failures] == ["absent1: No such device"]


def test_the_listener_thread_hands_over_what_it_heard_once_told_to_stop_joining():
    looked = threading.Event()
    rounds: list[int] = []

    def ports() -> list[str]:
        rounds.append(1)
        if len(rounds) >= 2:  # the first round has joined the port
            looked.set()
        return ["absent2"]

    early = lldp_early.EarlyListener(3, ports=ports, linked=lambda port: True)
    assert looked.wait(timeout=10)
    heard = early.result(timeout_s=5)
    assert heard is not None
    assert heard.interfaces == ("absent2",)
    assert [f.message for f in heard.failures] == ["absent2: No such device"]


def test_a_listener_that_breaks_is_a_failure_and_the_collector_listens_itself():
    def broken() -> list[str]:
        raise PermissionError("no raw sockets here")

    heard = lldp_early.EarlyListener(3, ports=broken, linked=lambda port: True).result(5)
    assert heard is not None
    assert heard.interfaces == ()  # so every linked port is left to the collector
    assert [f.message for f in heard.failures] == [
        "early listener: PermissionError: no raw sockets here"
    ]
