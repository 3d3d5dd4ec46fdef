"""The early LLDP listener's contract with the agent: its result file and the wait for it."""

from __future__ import annotations

import pytest

from arrow_agent import lldp_early
from arrow_agent.collectors import Failure, lldp


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


HEARD = lldp.Heard(
    interfaces=("eno1", "eno2"),
    neighbors=(lldp.Neighbor(interface="eno1", chassis_id="00:11:22:33:44:55", vlan_id=42),),
    failures=(Failure("lldp", "read", "eno2: announce: Network is down"),),
)


def test_the_result_survives_its_file(tmp_path):
    path = tmp_path / "lldp.json"
    lldp_early.write(path, HEARD)
    assert lldp_early.wait_for(path, timeout_s=0) == HEARD
    assert [p.name for p in tmp_path.iterdir()] == ["lldp.json"]  # no part file left behind


def test_a_result_that_never_comes_is_none_after_the_timeout(tmp_path):
    clock = FakeClock()
    path = tmp_path / "lldp.json"
    assert lldp_early.wait_for(path, 5, clock=clock, sleep=clock.sleep) is None
    assert 5 <= clock.now < 5 + 2 * lldp_early.POLL_S


@pytest.mark.parametrize("text", ["", "{", '{"interfaces": []}', '{"interfaces": [], '
                                  '"neighbors": [{"colour": 1}], "failures": []}'])  # fmt: skip
def test_an_unreadable_result_is_none(tmp_path, text):
    path = tmp_path / "lldp.json"
    path.write_text(text)
    assert lldp_early.wait_for(path, timeout_s=0) is None


def test_no_port_ever_linking_ends_after_one_window_with_nothing_heard():
    clock = FakeClock()
    heard = lldp_early.listen_as_ports_link(
        ["eno1", "eno2"], 3, linked=lambda port: False, clock=clock, sleep=clock.sleep
    )
    assert heard == lldp.Heard((), (), ())
    assert 3 <= clock.now < 3 + 2 * lldp_early.POLL_S


def test_without_a_file_and_ports_it_says_how_to_run_it(capsys):
    assert lldp_early.main([]) == 2
    assert "usage: python3 -m arrow_agent.lldp_early FILE PORT..." in capsys.readouterr().err
