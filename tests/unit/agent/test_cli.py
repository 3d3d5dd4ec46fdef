"""The command line in-process: parse subcommands, collect --dry-run on a fake root, refusals."""

from __future__ import annotations

import json

import pytest

from arrow_agent import cli
from tests.fakeroot import FIXTURES, NUC_MACS, nuc

KEY = "never-print-this-key"


def run_cli(capsys, *argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    code = cli.main(list(argv), environ=environ or {})
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_dmidecode_prints_raw_strings_and_the_chosen_serial(capsys):
    code, out, err = run_cli(
        capsys, "parse", "dmidecode", str(FIXTURES / "dmidecode/hp-proliant-dl360p-gen8.txt")
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "system_manufacturer": "HP",
        "system_product_name": "ProLiant DL360p Gen8",
        "system_version": "Not Specified",
        "system_serial": "USE2236835      ",
        "baseboard_serial": None,
        "chassis_serial": "USE2236835      ",
        "serial_number": "USE2236835",
        "sn_source": "dmidecode",
        "device_spec": "HP ProLiant DL360p Gen8",
    }


def test_parse_dmidecode_of_a_placeholder_system_serial(capsys):
    name = "dmidecode/asus-p5q-junk-system-serial.txt"
    output = json.loads(run_cli(capsys, "parse", "dmidecode", str(FIXTURES / name))[1])
    assert (output["system_serial"], output["serial_number"], output["sn_source"]) == (
        "System Serial Number",
        "MS1C93BB0H00980",
        "bios",
    )


def test_parse_iplink_prints_the_physical_pairs_and_warns_on_stderr(capsys):
    code, out, err = run_cli(
        capsys, "parse", "iplink", str(FIXTURES / "iplink/facter-oneline-ib-bond.txt")
    )
    assert code == 0
    assert json.loads(out) == {
        "mac_address": ["ens160:00:50:56:9a:51:af", "eth2:08:00:27:29:dc:a5"]
    }
    assert err == "warning: eth3 reports the same MAC as eth2; sent once\n"


def test_parse_iplink_reads_json_too(capsys):
    name = "iplink/qemu-e1000-bond-vlan-bridge-j-d.json"
    output = json.loads(run_cli(capsys, "parse", "iplink", str(FIXTURES / name))[1])
    assert output["mac_address"][-1] == "eth2:52:54:00:a0:00:03"


@pytest.mark.parametrize(
    ("name", "imei"),
    [("mmcli/huawei-e3276-m2.txt", "863781013763835"), ("mmcli/huawei-e3276-list.txt", None)],
)
def test_parse_mmcli_prints_the_imei(capsys, name, imei):
    assert json.loads(run_cli(capsys, "parse", "mmcli", str(FIXTURES / name))[1]) == {"imei": imei}


def test_parse_of_a_missing_file_is_a_usage_error(capsys, tmp_path):
    code, out, err = run_cli(capsys, "parse", "mmcli", str(tmp_path / "nope.txt"))
    assert (code, out) == (2, "")
    assert "No such file or directory" in err


def test_unknown_parser_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["parse", "lshw", "x"], environ={})
    assert exited.value.code == 2


def test_collect_dry_run_on_a_fake_root_prints_the_payload(capsys, fake_root):
    nuc(fake_root)
    code, out, err = run_cli(capsys, "collect", "--root", str(fake_root.path), "--dry-run")
    assert code == 0
    inventory = json.loads(out)["inventory_data"]
    assert inventory["mac_address"] == NUC_MACS
    assert (inventory["serial_number"], inventory["sn_source"]) == ("BTTN20900ABC", "bios")
    assert inventory["device_name"] == "PVE-91792126"
    assert "dmi: serial BTTN20900ABC (sn_source bios); device_spec Intel Client Systems " in err
    assert "problem: net/read: ip: command not found" in err
    assert "mmcli" not in err  # the default image has no ModemManager: not a problem


def test_settings_flow_from_cmdline_env_and_flags_into_the_payload(capsys, fake_root):
    nuc(fake_root).file("/proc/cmdline", "quiet arrow.prefix=CMD arrow.after=none\n")
    root = str(fake_root.path)
    from_cmdline = json.loads(run_cli(capsys, "collect", "--root", root, "--dry-run")[1])
    from_env = json.loads(
        run_cli(capsys, "collect", "--root", root, "--dry-run", environ={"ARROW_PREFIX": "ENV"})[1]
    )
    from_flag = json.loads(
        run_cli(
            capsys,
            "collect",
            "--root",
            root,
            "--dry-run",
            "--prefix",
            "FLAG",
            environ={"ARROW_PREFIX": "ENV"},
        )[1]
    )
    names = [p["inventory_data"]["device_name"] for p in (from_cmdline, from_env, from_flag)]
    assert names == ["CMD-91792126", "ENV-91792126", "FLAG-91792126"]


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([], {}, "config: no server; set arrow.server=URL, ARROW_SERVER or --server"),
        (["--server", "http://127.0.0.1:9"], {}, "config: no service key or token"),
        (["--prefix", "P_1"], {}, "config: prefix (from flag) must be 1-20 letters"),
        ([], {"ARROW_DEADLINE": "soon"}, "config: deadline (from env) must be a number"),
        (["--key-file", "/nonexistent/key"], {}, "config: key file /nonexistent/key: No such file"),
    ],
    ids=["no server", "no key", "bad prefix flag", "bad deadline in env", "missing key file"],
)
def test_collect_refuses_to_start_without_usable_settings(
    capsys, fake_root, argv, environ, message
):
    code, out, err = run_cli(
        capsys, "collect", "--root", str(fake_root.path), *argv, environ=environ
    )
    assert (code, out) == (2, "")
    assert message in err


def test_collect_with_a_missing_root_is_a_usage_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "collect", "--root", str(tmp_path / "nope"), "--dry-run")
    assert code == 2
    assert "is not a directory" in err


def test_the_key_is_never_printed(capsys, fake_root, tmp_path):
    nuc(fake_root).file("/proc/cmdline", f"arrow.key={KEY} arrow.token={KEY}-token\n")
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    code, out, err = run_cli(
        capsys,
        "collect",
        "--root",
        str(fake_root.path),
        "--dry-run",
        "--key-file",
        str(key_file),
        environ={"DEVICE_LOOKUP_API_KEY": KEY, "ARROW_TOKEN": f"{KEY}-token"},
    )
    assert code == 0
    assert KEY not in out + err
    assert "auth per-boot token (env)" in err


def test_the_reply_names_why_the_hardware_fails_its_spec(capsys):
    from arrow_agent.cli import report_reply

    report_reply({"device_id": "dev-1", "imaging_status": "awaiting_inventory",
                  "spec_mismatches": ["expected 32 GiB memory, found 16 GiB"]})  # fmt: skip
    err = capsys.readouterr().err
    assert "fails its spec: expected 32 GiB memory, found 16 GiB" in err
    report_reply({"device_id": "dev-1", "spec_mismatches": []})
    assert "fails its spec" not in capsys.readouterr().err


def test_waiting_for_a_file_that_never_comes_gives_up_and_says_so(capsys, tmp_path):
    assert cli.wait_for(tmp_path / "network.ready", 0.2, poll_s=0.05) is False
    missing = tmp_path / "network.ready"
    assert f"collect: {missing} did not appear within 0.2 s; collecting anyway" in (
        capsys.readouterr().err
    )


def test_waiting_for_a_file_that_is_there_returns_at_once(tmp_path):
    (tmp_path / "network.ready").touch()
    assert cli.wait_for(tmp_path / "network.ready", 0) is True


class StartedListener:
    """Stands in for lldp_early's thread, which would listen on this host's own NICs."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.stopped = False

    def stop_joining(self) -> None:
        self.stopped = True


def settings(**flags: str) -> cli.Config:
    return cli.resolve(cmdline={}, env={}, flags=flags)


@pytest.fixture
def new_listeners(monkeypatch):
    """Listeners that do not listen, on the real machine (an earlier collect may have left a
    --root set)."""
    monkeypatch.setattr(cli.lldp_early, "EarlyListener", StartedListener)
    previous = cli.run.get_root()
    cli.run.set_root(None)
    yield
    cli.run.set_root(previous)


def test_collect_keeps_the_listener_the_image_run_started_and_says_so(capsys, new_listeners):
    started = StartedListener(3.0)
    assert cli.start_early_lldp(settings(), started) is started
    assert not started.stopped
    assert "lldp: listening since the agent started, 3 s per linked port" in capsys.readouterr().err


def test_a_flag_that_changes_the_window_replaces_the_early_listener(new_listeners):
    started = StartedListener(3.0)
    replaced = cli.start_early_lldp(settings(lldp_wait="35"), started)
    assert started.stopped
    assert isinstance(replaced, StartedListener)
    assert replaced.wait_s == 35


@pytest.mark.parametrize("root", [False, True])
def test_lldp_off_or_a_replayed_machine_stops_the_early_listener(new_listeners, tmp_path, root):
    started = StartedListener(3.0)
    if root:
        cli.run.set_root(str(tmp_path))
    wait = "3" if root else "0"
    assert cli.start_early_lldp(settings(lldp_wait=wait), started) is None
    assert started.stopped


def test_parse_stops_an_early_listener(capsys):
    started = StartedListener(3.0)
    path = str(FIXTURES / "dmidecode/hp-proliant-dl360p-gen8.txt")
    assert cli.main(["parse", "dmidecode", path], environ={}, early_lldp=started) == 0
    assert started.stopped
