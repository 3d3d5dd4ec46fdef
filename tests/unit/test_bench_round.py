"""A benchmark round on an overloaded machine: wrk (the system edge) completes no request. The
round is run again for longer instead of dividing by zero, and a machine that never answers
ends the run with a message saying so."""

from __future__ import annotations

import pytest

from bench import run


class Server:
    url = "http://127.0.0.1:1/"

    def cpu_seconds(self) -> float:
        return 1.0


class Cluster:
    def postmaster_pid(self) -> int:
        return 1


@pytest.fixture
def wrk_answers(monkeypatch):
    answers: list[int] = []
    asked: list[float] = []

    def fake_wrk(url, *, seconds, **_):
        asked.append(seconds)
        return {"requests": answers.pop(0), "rps": 0.0}

    monkeypatch.setattr(run, "run_wrk", fake_wrk)
    monkeypatch.setattr(run, "tree_cpu_seconds", lambda pid: 2.0)
    return answers, asked


def test_a_round_without_requests_is_run_again_for_longer(wrk_answers):
    answers, asked = wrk_answers
    answers.extend([0, 50])
    figures = run.measured_round(Server(), Cluster(), seconds=1, wrk={})
    assert asked == [1, 2]
    assert figures["requests"] == 50
    assert figures["server_cpu_ms_per_request"] == 0.0


def test_a_machine_that_never_answers_ends_the_run_saying_so(wrk_answers):
    answers, asked = wrk_answers
    answers.extend([0, 0, 0])
    with pytest.raises(SystemExit, match="no check-mac request completed in 3 rounds"):
        run.measured_round(Server(), Cluster(), seconds=1, wrk={})
    assert asked == [1, 2, 4]
