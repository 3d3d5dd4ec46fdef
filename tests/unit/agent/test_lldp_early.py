"""The early LLDP listener: ports join as they appear and link, until the collectors start.

Raw sockets need real interfaces (tests/e2e/test_lldp_netns.py listens on real ones); here a
port that "links" does not exist, so joining it records the failed open, which is enough to
show when it joined.
"""

from __future__ import annotations

import threading

import pytest

from arrow_agent import lldp_early, run
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


class StartedListener:
    """Stands in for the thread, which would listen on this host's own NICs."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.stopped = False

    def stop_joining(self) -> None:
        self.stopped = True


@pytest.fixture
def kernel_cmdline(monkeypatch):
    """The image run's settings come from /proc/cmdline: this one's, not the host's."""
    line = {"text": "console=ttyS0 arrow.server=http://10.0.2.100"}
    monkeypatch.setattr(run, "read_sys", lambda path: line["text"])
    monkeypatch.setattr(lldp_early, "EarlyListener", StartedListener)
    return line


def test_the_image_run_listens_from_the_first_line_for_the_configured_window(kernel_cmdline):
    kernel_cmdline["text"] += " arrow.lldp_wait=5"
    started = lldp_early.start_for_image_run({lldp_early.IMAGE_RUN_ENV: "1"})
    assert isinstance(started, StartedListener)
    assert started.wait_s == 5
    env_wins = {lldp_early.IMAGE_RUN_ENV: "1", "ARROW_LLDP_WAIT": "7"}
    assert lldp_early.start_for_image_run(env_wins).wait_s == 7


@pytest.mark.parametrize(
    ("environ", "cmdline_tail"),
    [
        ({}, ""),  # a run by hand, a test, support's `collect --dry-run`
        ({lldp_early.IMAGE_RUN_ENV: "0"}, ""),
        ({lldp_early.IMAGE_RUN_ENV: "1"}, " arrow.lldp_wait=0"),  # LLDP off
        ({lldp_early.IMAGE_RUN_ENV: "1"}, " arrow.deadline=soon"),  # collect reports it
    ],
)
def test_no_listener_starts_before_the_cli_otherwise(kernel_cmdline, environ, cmdline_tail):
    kernel_cmdline["text"] += cmdline_tail
    assert lldp_early.start_for_image_run(environ) is None


def test_an_unreadable_kernel_command_line_starts_nothing(monkeypatch):
    def unreadable(path: str) -> str:
        raise PermissionError(path)

    monkeypatch.setattr(run, "read_sys", unreadable)
    assert lldp_early.start_for_image_run({lldp_early.IMAGE_RUN_ENV: "1"}) is None
