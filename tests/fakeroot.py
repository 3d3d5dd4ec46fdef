"""Builds fake machines for the agent's tests: a directory with ``sys/``, ``proc/`` and
``commands/`` laid out the way ``arrow_agent.run`` reads them under ``--root``."""

from __future__ import annotations

import os
from pathlib import Path

from arrow_agent.run import command_stem

FIXTURES = Path(__file__).parent / "fixtures"


class FakeRoot:
    """One fake machine; every method returns self so a test can chain what it needs."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def file(self, machine_path: str, content: str | bytes) -> FakeRoot:
        target = self.path / machine_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return self

    def link(self, machine_path: str, points_to: str) -> FakeRoot:
        target = self.path / machine_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(points_to, target)
        return self

    def command(self, argv: list[str], output: str | bytes, suffix: str = ".txt") -> FakeRoot:
        """What ``run(argv)`` answers; bytes are kept exactly (CRLF fixtures)."""
        return self.file(f"/commands/{command_stem(argv)}{suffix}", output)

    def fixture(self, argv: list[str], name: str) -> FakeRoot:
        """Answer ``run(argv)`` with a captured fixture file, byte for byte."""
        return self.command(argv, (FIXTURES / name).read_bytes(), Path(name).suffix)

    def nic(
        self,
        name: str,
        mac: str,
        *,
        driver: str | None = "e1000e",
        pci: str | None = "0000:00:1f.6",
        operstate: str = "up",
        carrier: str | None = "1",
        speed: str | None = "1000",
        perm_hwaddr: str | None = None,
    ) -> FakeRoot:
        """A /sys/class/net entry; ``pci=None`` makes it virtual (no device link)."""
        base = f"/sys/class/net/{name}"
        self.file(f"{base}/address", f"{mac}\n").file(f"{base}/operstate", f"{operstate}\n")
        if carrier is not None:
            self.file(f"{base}/carrier", f"{carrier}\n")
        if speed is not None:
            self.file(f"{base}/speed", f"{speed}\n")
        if perm_hwaddr is not None:
            self.file(f"{base}/bonding_slave/perm_hwaddr", f"{perm_hwaddr}\n")
        if pci is not None:
            device = f"/sys/devices/pci0000:00/{pci}"
            self.file(f"{device}/vendor", "0x8086\n")
            self.link(f"{base}/device", f"../../../devices/pci0000:00/{pci}")
            if driver is not None:
                self.link(f"{device}/driver", f"../../../bus/pci/drivers/{driver}")
        return self

    def dmi_id(self, **values: str) -> FakeRoot:
        """/sys/class/dmi/id files, e.g. ``product_serial="ABC"``."""
        for name, value in values.items():
            self.file(f"/sys/class/dmi/id/{name}", f"{value}\n")
        return self

    def disk(
        self,
        name: str,
        *,
        sectors: int,
        model: str | None = None,
        serial: str | None = None,
        rotational: str = "0",
        physical: bool = True,
    ) -> FakeRoot:
        base = f"/sys/block/{name}"
        self.file(f"{base}/size", f"{sectors}\n").file(
            f"{base}/queue/rotational", f"{rotational}\n"
        )
        if physical:
            self.file(f"{base}/device/state", "running\n")
            if model is not None:
                self.file(f"{base}/device/model", f"{model}   \n")
            if serial is not None:
                self.file(f"{base}/device/serial", f"{serial}\n")
        return self


NUC_MACS = ["enp86s0:1c:69:7a:0a:1b:2c", "wlo1:60:dd:8e:12:34:56"]


def nuc(root: FakeRoot) -> FakeRoot:
    """A NUC 11-like machine: dmidecode as captured under QEMU (baseboard serial BTTN20900ABC),
    an Ethernet and a Wi-Fi NIC (and their PCI functions) next to docker0 and lo, an NVMe disk,
    UEFI firmware with Secure Boot on, a TPM 2.0, and the
    /proc files captured in the same guest. No ModemManager, no modem."""
    root.fixture(["dmidecode"], "dmidecode/qemu-nuc11tnhi5-smbios-placeholder-system-serial.txt")
    root.nic("enp86s0", "1c:69:7a:0a:1b:2c", driver="igc", pci="0000:56:00.0", speed="2500")
    root.nic("wlo1", "60:dd:8e:12:34:56", driver="iwlwifi", pci="0000:00:14.3", speed=None)
    root.nic("docker0", "02:42:0c:d5:0f:d7", pci=None)
    root.nic("lo", "00:00:00:00:00:00", pci=None)
    root.disk("nvme0n1", sectors=500118192, model="Samsung SSD 980 250GB", serial="S64BNJ0R")
    root.file("/sys/firmware/efi/fw_platform_size", "64\n")
    # Secure Boot on: 4 attribute bytes, then 1 (the layout efivarfs shows).
    root.file(
        "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
        b"\x06\x00\x00\x00\x01",
    )
    root.file("/sys/class/tpm/tpm0/tpm_version_major", "2\n")
    for bus, vendor, device, klass, driver in (
        ("0000:00:14.3", "0x8086", "0xa0f0", "0x028000", "iwlwifi"),
        ("0000:56:00.0", "0x8086", "0x15f3", "0x020000", "igc"),
    ):
        base = f"/sys/bus/pci/devices/{bus}"
        root.file(f"{base}/vendor", f"{vendor}\n").file(f"{base}/device", f"{device}\n")
        root.file(f"{base}/class", f"{klass}\n").file(f"{base}/revision", "0x01\n")
        root.link(f"{base}/driver", f"../../../bus/pci/drivers/{driver}")
    root.file("/proc/cpuinfo", (FIXTURES / "proc/qemu-tcg-2cpu-cpuinfo.txt").read_bytes())
    root.file("/proc/meminfo", (FIXTURES / "proc/qemu-1g-meminfo.txt").read_bytes())
    root.file("/proc/cmdline", "BOOT_IMAGE=vmlinuz quiet\n")
    root.file("/proc/sysrq-trigger", "")
    return root
