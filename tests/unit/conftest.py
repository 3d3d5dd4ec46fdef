"""Unit tests run no commands and read nothing of the real machine.

Every unit test gets ``arrow_agent.run.run`` and the subprocess entry points replaced by a
function that fails loudly (the idea of ironic-python-agent's ``tests/unit/base.py``), and
``run``'s root pointed at an empty directory, so a test sees an empty machine unless it builds
one with the ``fake_root`` fixture.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from arrow_agent import run
from tests.fakeroot import FakeRoot

REAL_RUN = run.run


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError(
        f"a unit test tried to run a real command {args!r}: "
        "drive the parser with a string, or answer the command from fake_root's commands/"
    )


@pytest.fixture(autouse=True)
def no_real_commands(monkeypatch, tmp_path_factory):
    """Shuts run.run, subprocess and os.system/popen; points run at an empty machine."""
    monkeypatch.setattr(run, "run", _refuse)
    for name in ("run", "Popen", "call", "check_call", "check_output", "getoutput"):
        monkeypatch.setattr(subprocess, name, _refuse)
    monkeypatch.setattr(os, "system", _refuse)
    monkeypatch.setattr(os, "popen", _refuse)
    run.set_root(tmp_path_factory.mktemp("empty-machine"))
    yield
    run.set_root(None)


@pytest.fixture
def fake_root(no_real_commands, monkeypatch, tmp_path) -> FakeRoot:
    """An empty fake machine that run reads from; commands replay from its commands/ folder
    (run.run is restored, subprocess stays shut, so nothing real can run)."""
    monkeypatch.setattr(run, "run", REAL_RUN)
    machine = FakeRoot(tmp_path / "machine")
    run.set_root(machine.path)
    return machine
