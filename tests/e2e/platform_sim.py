"""A server's platform devices for a QEMU guest: a TPM 2.0 (``swtpm``) and a BMC.

The BMC is OpenIPMI's ``ipmi_sim`` behind QEMU's ``ipmi-bmc-extern`` and a KCS system
interface, so the guest's kernel finds it as a server's BMC (ACPI ``IPI0001``) and
``ipmitool lan print`` inside the guest reads its LAN settings over /dev/ipmi0. QEMU's built-in
``ipmi-bmc-sim`` answers no LAN configuration command ("Get Channel Info: Invalid command");
ipmi_sim implements them and asks a program of ours for the values (its
``lan_config_program``: ``PROGRAM get NAME...`` prints ``NAME:VALUE`` lines). Everything
listens on 127.0.0.1 or a socket file.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port


@dataclass(frozen=True)
class BmcLan:
    """The BMC's LAN channel, as its firmware would report it."""

    address: str = "10.20.0.31"
    mac: str = "3c:ec:ef:10:20:31"
    netmask: str = "255.255.255.0"
    gateway: str = "10.20.0.1"

    def lancontrol(self) -> str:
        values = {
            "ip_addr_src": "static",
            "ip_addr": self.address,
            "mac_addr": self.mac,
            "subnet_mask": self.netmask,
            "default_gw_ip_addr": self.gateway,
            "default_gw_mac_addr": "00:00:00:00:00:00",
            "backup_gw_ip_addr": "10.20.0.2",
            "backup_gw_mac_addr": "00:00:00:00:00:00",
        }
        cases = "".join(f'    {name}) echo "{name}:{value}" ;;\n' for name, value in values.items())
        return (
            "#!/bin/sh\n"
            "# ipmi_sim's lan_config_program: 'get NAME...' prints NAME:VALUE; set/check succeed.\n"
            '[ "$1" = get ] || exit 0\n'
            "shift\n"
            'for name in "$@"; do\n'
            "    case $name in\n"
            f"{cases}"
            '    *) echo "$name: unknown" >&2; exit 1 ;;\n'
            "    esac\n"
            "done\n"
        )


def _config(workdir: Path, serial_port: int, lan_port: int) -> str:
    return f"""name "arrowbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 {lan_port}
    priv_limit admin
    allowed_auths_callback none md5
    allowed_auths_user none md5
    allowed_auths_operator none md5
    allowed_auths_admin none md5
    guid a123456789abcdefa123456789abcdef
    lan_config_program "{workdir / "lancontrol"}"
  endlan
  serial 15 127.0.0.1 {serial_port} codec VM
  startnow false
  user 1 true "" "unused" user 10 none md5
"""


# One management controller, the BMC at IPMB address 0x20 (IPMI 2.0, manufacturer 0x1291).
EMULATION = """mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
mc_enable 0x20
"""


@contextmanager
def ipmi_bmc(workdir: Path, lan: BmcLan) -> Iterator[list[str]]:
    """Runs ipmi_sim for one guest; yields the QEMU arguments that attach it. Fails (never
    skips) without Debian's openipmi package."""
    if shutil.which("ipmi_sim") is None:
        pytest.fail("the BMC test needs: apt-get install -y openipmi")
    workdir.mkdir(parents=True, exist_ok=True)
    control = workdir / "lancontrol"
    control.write_text(lan.lancontrol())
    control.chmod(0o755)
    serial_port = free_port()
    (workdir / "lan.conf").write_text(_config(workdir, serial_port, free_port()))
    (workdir / "bmc.emu").write_text(EMULATION)
    (workdir / "state").mkdir(exist_ok=True)
    with (workdir / "ipmi_sim.log").open("wb") as log:
        process = subprocess.Popen(
            ["ipmi_sim", "-n", "-c", "lan.conf", "-f", "bmc.emu", "-s", "state"],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # QEMU connects to the simulator's system interface port, retrying each second until
        # the simulator listens.
        yield [
            "-chardev", f"socket,id=ipmi0,host=127.0.0.1,port={serial_port},reconnect=1",
            "-device", "ipmi-bmc-extern,chardev=ipmi0,id=bmc0",
            "-device", "isa-ipmi-kcs,bmc=bmc0",
        ]  # fmt: skip
    finally:
        _stop(process)


@contextmanager
def tpm2(workdir: Path) -> Iterator[list[str]]:
    """Runs swtpm (a TPM 2.0) for one guest; yields the QEMU arguments of a TIS TPM that uses
    it. Fails (never skips) without Debian's swtpm package."""
    if shutil.which("swtpm") is None:
        pytest.fail("the TPM test needs: apt-get install -y swtpm")
    workdir.mkdir(parents=True, exist_ok=True)
    socket_path = workdir / "swtpm.sock"
    with (workdir / "swtpm.log").open("wb") as log:
        process = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={workdir}",
             "--ctrl", f"type=unixio,path={socket_path}", "--terminate"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():  # QEMU does not retry a TPM's socket
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"swtpm did not start: {(workdir / 'swtpm.log').read_text()}")
            time.sleep(0.05)
        yield [
            "-chardev", f"socket,id=chrtpm,path={socket_path}",
            "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
            "-device", "tpm-tis,tpmdev=tpm0",
        ]  # fmt: skip
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
