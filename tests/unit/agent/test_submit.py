"""The retry policy: backoff with jitter on network errors and 5xx until the deadline, never
on 4xx. The real HTTP round trips are in tests/integration/agent/test_submit_http.py."""

from __future__ import annotations

import pytest

from arrow_agent import submit
from arrow_agent.submit import Backoff, Outcome

ACCEPTED = Outcome(True, False, 1, 200, "", {"device_id": "d1"})
REFUSED = Outcome(False, False, 1, 400, "HTTP 400 Bad Request: mac_address[0]")
UNAVAILABLE = Outcome(False, True, 1, 503, "HTTP 503 Service Unavailable")
UNREACHABLE = Outcome(False, True, 1, None, "ConnectionRefusedError: [Errno 111] refused")


class Script:
    """Answers the attempts in order and keeps a fake clock that sleeping advances."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.now = 0.0
        self.sleeps: list[float] = []
        self.lines: list[str] = []
        self.bodies: list[bytes] = []

    def post_once(self, url, body, headers, timeout) -> Outcome:
        self.bodies.append(body)
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def run(self, monkeypatch, deadline: float = 600.0) -> Outcome:
        monkeypatch.setattr(submit, "post_once", self.post_once)
        return submit.submit(
            "http://backend/api/inventory/submit",
            {"inventory_data": {}},
            {"X-Service-Api-Key": "k"},
            deadline=deadline,
            backoff=Backoff(initial=2.0, maximum=60.0),
            say=self.lines.append,
            clock=lambda: self.now,
            sleep=self.sleep,
            draw=lambda: 0.5,
        )


@pytest.mark.parametrize(
    ("retry", "draw", "delay"),
    [(1, 0.0, 1.0), (1, 1.0, 2.0), (2, 0.5, 3.0), (3, 0.0, 4.0), (7, 0.0, 30.0), (7, 1.0, 60.0)],
)
def test_backoff_doubles_up_to_the_cap_with_half_of_it_jittered(retry, draw, delay):
    assert Backoff(initial=2.0, maximum=60.0).delay(retry, draw) == delay


def test_5xx_twice_then_accepted(monkeypatch):
    script = Script(UNAVAILABLE, UNAVAILABLE, ACCEPTED)
    outcome = script.run(monkeypatch)
    assert (outcome.ok, outcome.attempts, outcome.reply) == (True, 3, {"device_id": "d1"})
    assert script.sleeps == [1.5, 3.0]
    assert script.lines == [
        "submit attempt 1 to http://backend/api/inventory/submit: HTTP 503 Service Unavailable;"
        " retrying in 1.5 s (600 s left)",
        "submit attempt 2 to http://backend/api/inventory/submit: HTTP 503 Service Unavailable;"
        " retrying in 3.0 s (598 s left)",
        "submit attempt 3 to http://backend/api/inventory/submit: HTTP 200, accepted",
    ]
    assert len(set(script.bodies)) == 1


def test_4xx_is_final(monkeypatch):
    script = Script(REFUSED)
    outcome = script.run(monkeypatch)
    assert (outcome.ok, outcome.retryable, outcome.attempts) == (False, False, 1)
    assert script.sleeps == []
    assert script.lines[-1].endswith("HTTP 400 Bad Request: mac_address[0]; not retrying")


def test_network_errors_are_retried_until_the_deadline_and_no_later(monkeypatch):
    script = Script(UNREACHABLE)
    outcome = script.run(monkeypatch, deadline=100.0)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert sum(script.sleeps) <= 100.0
    assert script.sleeps == [1.5, 3.0, 6.0, 12.0, 24.0, 45.0]
    assert outcome.attempts == 7
    assert script.lines[-1].endswith("refused; giving up (deadline)")


def test_zero_deadline_means_one_attempt(monkeypatch):
    script = Script(UNREACHABLE)
    assert script.run(monkeypatch, deadline=0).attempts == 1
    assert script.sleeps == []
