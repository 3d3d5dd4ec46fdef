"""After success: SysRq first, the reboot/poweroff command as fallback, nothing for "none"."""

from __future__ import annotations

import pytest

from arrow_agent import power


def test_none_does_nothing(fake_root):
    assert power.perform("none") is None
    assert not (fake_root.path / "proc").exists()


@pytest.mark.parametrize(("action", "key"), [("reboot", "b"), ("poweroff", "o")])
def test_sysrq_is_written(fake_root, action, key):
    fake_root.file("/proc/sysrq-trigger", "")
    assert power.perform(action, settle_s=0) is None
    assert (fake_root.path / "proc/sysrq-trigger").read_text() == key


def test_without_sysrq_the_command_is_run(fake_root):
    fake_root.command(["reboot", "-f"], "")
    assert power.perform("reboot", settle_s=0) is None


def test_a_machine_still_running_after_both_is_a_failure(fake_root):
    fake_root.file("/proc/sysrq-trigger", "")
    fake_root.command(["poweroff", "-f"], "")
    waits: list[float] = []
    problem = power.perform("poweroff", settle_s=30, sleep=waits.append)
    assert problem == "still running 30 s after SysRq; still running 30 s after poweroff -f"
    assert waits == [30, 30]


def test_neither_sysrq_nor_command_is_a_failure_naming_both(fake_root):
    problem = power.perform("reboot", settle_s=0)
    assert problem.startswith("/proc/sysrq-trigger: No such file or directory; reboot: command")
