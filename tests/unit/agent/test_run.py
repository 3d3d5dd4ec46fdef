"""The gateway: replay under a root, and the guard that keeps unit tests off real commands."""

from __future__ import annotations

import subprocess

import pytest

from arrow_agent import run


def test_unit_tests_cannot_run_a_real_command():
    with pytest.raises(AssertionError, match="tried to run a real command"):
        run.run(["true"])
    with pytest.raises(AssertionError, match="tried to run a real command"):
        subprocess.run(["true"], check=False)


def test_unit_tests_see_an_empty_machine_by_default():
    with pytest.raises(FileNotFoundError):
        run.list_sys("/sys/class/net")


@pytest.mark.parametrize(
    ("argv", "stem"),
    [
        (["dmidecode"], "dmidecode"),
        (["ip", "-j", "-d", "link"], "ip-j-d-link"),
        (["mmcli", "-L", "-K"], "mmcli-L-K"),
        (["mmcli", "-m", "2", "-K"], "mmcli-m-2-K"),
    ],
)
def test_command_file_stem_joins_argv_without_leading_dashes(argv, stem):
    assert run.command_stem(argv) == stem


def test_replay_reads_txt_or_json_byte_for_byte(fake_root):
    fake_root.command(["dmidecode"], b"System Information\r\n\tSerial Number: X \r\n")
    fake_root.command(["ip", "-j", "link"], "[]", suffix=".json")
    assert run.run(["dmidecode"]) == "System Information\r\n\tSerial Number: X \r\n"
    assert run.run(["ip", "-j", "link"]) == "[]"


def test_replay_of_an_uncaptured_command_is_a_missing_command(fake_root):
    with pytest.raises(run.CommandMissing, match=r"mmcli: command not found \(no commands/mmcli"):
        run.run(["mmcli", "-L", "-K"])


def test_machine_paths_are_read_under_the_root(fake_root):
    fake_root.file("/proc/cmdline", "quiet arrow.server=http://x\n")
    fake_root.link("/sys/class/net/eth0/device/driver", "../../../bus/pci/drivers/igc")
    assert run.read_sys("/proc/cmdline") == "quiet arrow.server=http://x\n"
    assert run.list_sys("/sys/class/net") == ["eth0"]
    assert run.sys_link_name("/sys/class/net/eth0/device/driver") == "igc"
    assert run.sys_link_name("/sys/class/net/eth0/missing") is None
    assert not run.sys_exists("/sys/firmware/efi")


def test_write_goes_under_the_root(fake_root):
    fake_root.file("/proc/sysrq-trigger", "")
    run.write_sys("/proc/sysrq-trigger", "b")
    assert (fake_root.path / "proc/sysrq-trigger").read_text() == "b"
