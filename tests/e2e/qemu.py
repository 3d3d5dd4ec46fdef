"""Runs one QEMU guest for end-to-end tests and owns its process, console log and deadlines.

The guest is a BIOS machine under TCG (this host's /dev/kvm is a broken nested KVM) with Debian's
iPXE option ROM on its first NIC, QEMU's user network with ``restrict=on`` (the guest reaches
nothing but the host address the test forwards), SMBIOS identity strings, and its serial console
in a log file, including SeaBIOS and iPXE through the ``etc/sercon-port`` firmware setting.
It can also boot a kernel and initrd directly, to test the inventory image without iPXE.

Knows nothing about what the guest runs or what the test serves: the test starts its own server
on 127.0.0.1 and passes its port. Each ``guestfwd`` connection runs ``socat`` to that port; the
``-tcp:`` form of guestfwd opens a single connection at start-up and stalls on the second request.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

ROM_DIR = Path("/usr/lib/ipxe/qemu")
# QEMU device model -> the option ROM QEMU loads for it by default, which Debian's ipxe-qemu
# provides in ROM_DIR (on QEMU's search path). The harness keeps that default: on this QEMU (7.2),
# naming the same file with romfile= on virtio-net-pci left SeaBIOS without the iPXE boot entry.
ROMS = {"virtio-net-pci": "efi-virtio.rom", "e1000": "efi-e1000.rom", "e1000e": "efi-e1000e.rom"}
# Program -> the Debian package that provides it, for the failure message when one is missing.
TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "socat": "socat"}
OVMF = Path("/usr/share/OVMF")
# Firmware -> (code, variables template); None: QEMU's SeaBIOS. Secure Boot: Microsoft's keys
# enrolled, which trust the shim Debian signs through Microsoft (and not Debian's iPXE).
FIRMWARE = {
    "bios": (None, None),
    "uefi": (OVMF / "OVMF_CODE_4M.fd", OVMF / "OVMF_VARS_4M.fd"),
    "secboot": (OVMF / "OVMF_CODE_4M.secboot.fd", OVMF / "OVMF_VARS_4M.ms.fd"),
}
SERCON_PORT = b"\xf8\x03"  # 0x3f8, COM1, little-endian: SeaBIOS and iPXE print there too

T = TypeVar("T")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop *process* (one the test started) by its PID: terminate, then kill; safe to repeat."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def require_tools() -> None:
    """Fail (never skip) naming the Debian package of every missing program or ROM."""
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if not all((ROM_DIR / rom).is_file() for rom in ROMS.values()):
        missing.append("ipxe-qemu")
    if missing:
        pytest.fail(f"QEMU tests need: apt-get install -y {' '.join(sorted(set(missing)))}")


def _opt(value: str) -> str:
    """Escape a value inside a QEMU -option list: a comma is written as two."""
    return value.replace(",", ",,")


@dataclass(frozen=True)
class Nic:
    """One NIC on its own user-mode network.

    The first NIC of a guest carries the forward to the test server and the iPXE boot file;
    other NICs get a network of their own (``net``), as a second port on another LAN would.
    """

    model: str  # a key of ROMS
    mac: str
    net: str | None = None  # slirp subnet, e.g. "10.0.3.0/24"; None keeps QEMU's 10.0.2.0/24
    rom: bool = True  # load the iPXE ROM (only the boot NIC needs it); UEFI without it: OVMF's PXE
    tap: str | None = None  # a tap device (tests/e2e/netlab.py) instead of a user network
    bootindex: int | None = None  # None: 1 for the first NIC with a ROM, else unset


@dataclass(frozen=True)
class Smbios:
    """SMBIOS type 1 (system), 2 (baseboard) and 3 (chassis) strings the guest's dmidecode sees."""

    manufacturer: str = "Intel Corporation"
    product: str = "NUC11TNHi5"
    version: str = "M15513-305"
    serial: str = "ABC123XYZ"
    board_product: str = "NUC11TNBi5"
    board_serial: str = "BTTN1234567A"
    chassis_serial: str = "CHS1234567"

    def args(self) -> list[str]:
        system = (
            f"type=1,manufacturer={_opt(self.manufacturer)},product={_opt(self.product)},"
            f"version={_opt(self.version)},serial={_opt(self.serial)}"
        )
        board = (
            f"type=2,manufacturer={_opt(self.manufacturer)},product={_opt(self.board_product)},"
            f"serial={_opt(self.board_serial)}"
        )
        chassis = (
            f"type=3,manufacturer={_opt(self.manufacturer)},serial={_opt(self.chassis_serial)}"
        )
        return ["-smbios", system, "-smbios", board, "-smbios", chassis]


@dataclass
class QemuGuest:
    """One QEMU process. Use as a context manager: leaving the block always kills QEMU.

    ``forward_port``: the 127.0.0.1 port the guest reaches as ``http://<forward_ip>/``.
    ``bootfile``: the URL iPXE fetches after DHCP (network boot); ``kernel``/``initrd``/``append``
    boot directly instead. With neither, the firmware's own boot order applies.
    """

    workdir: Path
    nics: Sequence[Nic]
    forward_port: int | None = None
    forward_ip: str = "10.0.2.100"
    bootfile: str | None = None
    smbios: Smbios = field(default_factory=Smbios)
    kernel: Path | None = None
    initrd: Path | None = None
    append: str | None = None
    memory_mb: int = 512
    # QEMU's default CPU model has no hardware random number generator, which every x86 server
    # and PC of the last decade has (RDRAND): without one the kernel's random pool fills from
    # CPU jitter, which under TCG takes about 1.5 s and stalls the first program that asks for
    # randomness (Python, at start). RDRAND is what the machines we boot have.
    cpu: str = "qemu64,+rdrand"
    extra_args: Sequence[str] = ()
    netns: str | None = None  # run QEMU inside this network namespace (its taps live there)
    firmware: str = "bios"  # a key of FIRMWARE: SeaBIOS, OVMF, or OVMF with Secure Boot

    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    started: float | None = field(default=None, init=False)  # time.monotonic() at launch

    @property
    def console_log(self) -> Path:
        return self.workdir / "console.log"

    @property
    def stderr_log(self) -> Path:
        return self.workdir / "qemu.stderr"

    def command(self) -> list[str]:
        sercon = self.workdir / "sercon-port"
        sercon.write_bytes(SERCON_PORT)
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        argv = [
            *prefix, "qemu-system-x86_64",
            "-accel", "tcg",
            "-cpu", self.cpu,
            "-m", str(self.memory_mb),
            "-nographic", "-no-reboot",
            "-monitor", "none",
            "-serial", f"file:{self.console_log}",
            "-fw_cfg", f"name=etc/sercon-port,file={sercon}",
        ]  # fmt: skip
        argv += self.smbios.args() + self._firmware_args()
        for index, nic in enumerate(self.nics):
            argv += ["-netdev", self._netdev(index, nic), "-device", self._device(index, nic)]
        if self.kernel is not None:
            argv += ["-kernel", str(self.kernel)]
            if self.initrd is not None:
                argv += ["-initrd", str(self.initrd)]
            if self.append is not None:
                argv += ["-append", self.append]
        return argv + list(self.extra_args)

    def _firmware_args(self) -> list[str]:
        if self.firmware not in FIRMWARE:
            raise ValueError(f"firmware {self.firmware!r}: use one of {', '.join(FIRMWARE)}")
        code, variables = FIRMWARE[self.firmware]
        if code is None:
            return []
        own_vars = self.workdir / "OVMF_VARS.fd"  # the guest writes its variables: a copy
        shutil.copyfile(variables, own_vars)
        machine = "q35,smm=on" if self.firmware == "secboot" else "q35"
        argv = ["-machine", machine]
        if self.firmware == "secboot":
            argv += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        return [
            *argv,
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={own_vars}",
        ]  # fmt: skip

    def _netdev(self, index: int, nic: Nic) -> str:
        if nic.tap is not None:
            return f"tap,id=n{index},ifname={nic.tap},script=no,downscript=no"
        options = [f"user,id=n{index}", "restrict=on"]
        if nic.net is not None:
            options.append(f"net={nic.net}")
        if index == 0 and self.forward_port is not None:
            # One socat per connection; QEMU runs the command through /bin/sh.
            relay = f"socat - TCP:127.0.0.1:{self.forward_port}"
            options.append(f"guestfwd=tcp:{self.forward_ip}:80-cmd:{relay}")
        if index == 0 and self.bootfile is not None:
            options.append(f"bootfile={_opt(self.bootfile)}")
        return ",".join(options)

    def _device(self, index: int, nic: Nic) -> str:
        if nic.model not in ROMS:
            raise ValueError(f"NIC model {nic.model!r}: use one of {', '.join(ROMS)}")
        options = [nic.model, f"netdev=n{index}", f"mac={nic.mac}"]
        if not nic.rom:
            options.append("romfile=")
        if nic.bootindex is not None:
            options.append(f"bootindex={nic.bootindex}")
        elif index == 0 and nic.rom:
            options.append("bootindex=1")  # network first: no time spent on empty disk drives
        return ",".join(options)

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> QemuGuest:
        require_tools()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.console_log.write_bytes(b"")
        argv = self.command()
        (self.workdir / "qemu.argv").write_text("\n".join(argv) + "\n")
        with self.stderr_log.open("wb") as stderr:
            self.started = time.monotonic()
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, cwd=self.workdir
            )
        return self

    def stop(self) -> None:
        """Kill QEMU if it still runs; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)

    def __enter__(self) -> QemuGuest:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def exit_code(self) -> int | None:
        """QEMU's exit status once it has exited (``-no-reboot``: the guest rebooted), else None."""
        return None if self.process is None else self.process.poll()

    def elapsed(self, at: float | None = None) -> float:
        """Seconds from QEMU's launch to *at* (a time.monotonic() value; default now)."""
        assert self.started is not None, "the guest was never started"
        return (time.monotonic() if at is None else at) - self.started

    # --- observation -------------------------------------------------------------------------

    def console(self) -> str:
        try:
            return self.console_log.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def console_tail(self, lines: int = 60) -> str:
        tail = "\n".join(self.console().replace("\r", "").splitlines()[-lines:])
        stderr = ""
        if self.stderr_log.exists():
            stderr = self.stderr_log.read_text(errors="replace").strip()
        text = f"--- console ({self.console_log}), last {lines} lines ---\n{tail}"
        return text + (f"\n--- qemu stderr ---\n{stderr}" if stderr else "")

    def wait_for(
        self,
        condition: Callable[[], T | None],
        *,
        timeout: float,
        what: str,
        allow_exit: bool = False,
        context: Callable[[], str] | None = None,
        poll: float = 0.1,
    ) -> T:
        """Poll *condition* until it returns something truthy, and return that.

        Fails with the console tail, plus ``context()`` (say, what a test server saw), when
        *timeout* seconds pass, or as soon as QEMU exits (unless *allow_exit*).
        """
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if not allow_exit and self.exit_code is not None:
                problem = f"QEMU exited (status {self.exit_code}) while waiting for {what}"
            elif time.monotonic() >= deadline:
                problem = f"no {what} within {timeout:g} s"
            else:
                time.sleep(poll)
                continue
            extra = f"\n{context()}" if context is not None else ""
            pytest.fail(
                f"{problem} ({self.elapsed():.1f} s since QEMU started){extra}\n"
                f"{self.console_tail()}"
            )

    def wait_for_console(self, text: str, *, timeout: float) -> str:
        """Wait until the console log contains *text*; returns the whole log."""
        return self.wait_for(
            lambda: self.console() if text in self.console() else None,
            timeout=timeout,
            what=f"console text {text!r}",
        )

    def wait_for_exit(self, *, timeout: float, what: str) -> int:
        """Wait for QEMU to exit (with -no-reboot, a guest reboot or poweroff); its status."""
        code = self.wait_for(
            lambda: (self.exit_code,) if self.exit_code is not None else None,
            timeout=timeout,
            what=what,
            allow_exit=True,
        )
        return code[0]
