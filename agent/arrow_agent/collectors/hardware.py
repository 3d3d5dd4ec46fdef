"""CPU, memory, disks and boot mode for the optional ``hardware`` object.

Reads ``/proc/cpuinfo``, ``/proc/meminfo``, ``/sys/block`` and ``/sys/firmware/efi``. A disk
counts when ``/sys/block/<disk>/device`` exists (the rule NICs follow), which drops loop, ram,
zram, device-mapper and md devices. DMI strings and NICs come from their own collectors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed, parse_guarded

NAME = "hardware"


@dataclass(frozen=True)
class Cpu:
    model: str | None = None
    cores: int | None = None  # distinct (physical id, core id) pairs, else logical CPUs
    threads: int | None = None  # logical CPUs


@dataclass(frozen=True)
class Disk:
    name: str
    size_bytes: int | None = None
    model: str | None = None
    serial: str | None = None
    rotational: bool | None = None
    transport: str | None = None  # nvme, sata, sas/scsi, usb, virtio, mmc (ironic's names)
    wwn: str | None = None


def parse_cpuinfo(text: str) -> Parsed[Cpu]:
    blocks = [block for block in text.split("\n\n") if block.strip()]
    model = None
    cores = set()
    threads = 0
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, colon, value = line.partition(":")
            if colon:
                fields.setdefault(key.strip(), value.strip())
        if "processor" in fields:
            threads += 1
        # x86 says "model name"; some ARM kernels "Model" or "Hardware" (once, in the last block).
        model = model or fields.get("model name") or fields.get("Model") or fields.get("Hardware")
        if "physical id" in fields and "core id" in fields:
            cores.add((fields["physical id"], fields["core id"]))
    if not threads:
        return Parsed(Cpu(model=model), ["/proc/cpuinfo lists no processor"])
    return Parsed(Cpu(model=model, cores=len(cores) or threads, threads=threads))


def parse_meminfo(text: str) -> Parsed[int | None]:
    """MemTotal in bytes."""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "MemTotal:" and words[1].isdigit():
            unit = 1024 if len(words) > 2 and words[2].lower() == "kb" else 1
            return Parsed(int(words[1]) * unit)
    return Parsed(None, ["/proc/meminfo has no MemTotal line"])


def parse_vpd_serial(data: bytes) -> str | None:
    """The unit serial number in a SCSI VPD page 0x80 (4-byte header, then ASCII)."""
    if len(data) < 5 or data[1] != 0x80:
        return None
    length = int.from_bytes(data[2:4], "big")
    serial = data[4 : 4 + length].decode("ascii", errors="replace").strip(" \x00")
    return serial or None


def _value(path: str) -> str | None:
    try:
        return run.read_sys(path).strip() or None
    except OSError:
        return None


def read_disks() -> list[Disk]:
    """Disks under /sys/block that sit on a device; raises OSError when it cannot be listed."""
    disks = []
    for name in run.list_sys("/sys/block"):
        base = f"/sys/block/{name}"
        if not run.sys_exists(f"{base}/device"):
            continue
        sectors = _value(f"{base}/size")
        rotational = _value(f"{base}/queue/rotational")
        # NVMe and virtio put the serial in a file; SCSI and SATA disks in VPD page 0x80.
        serial = _value(f"{base}/device/serial") or _value(f"{base}/serial")
        if serial is None:
            try:
                serial = parse_vpd_serial(run.read_sys_bytes(f"{base}/device/vpd_pg80"))
            except OSError:
                serial = None
        disks.append(
            Disk(
                name=name,
                size_bytes=int(sectors) * 512 if sectors and sectors.isdigit() else None,
                model=_value(f"{base}/device/model"),
                serial=serial,
                rotational={"1": True, "0": False}.get(rotational or ""),
                transport=transport(name),
                wwn=_value(f"{base}/device/wwid") or _value(f"{base}/wwid"),
            )
        )
    return disks


def transport(name: str) -> str | None:
    """How a disk is attached: from its name for NVMe, virtio and MMC, else from where its
    sysfs device sits (under a USB port) and the vendor the SCSI layer reports ("ATA")."""
    for prefix, kind in (("nvme", "nvme"), ("vd", "virtio"), ("mmcblk", "mmc")):
        if name.startswith(prefix):
            return kind
    if "/usb" in str(run.sys_path(f"/sys/block/{name}").resolve()):
        return "usb"
    vendor = _value(f"/sys/block/{name}/device/vendor")
    if vendor is None:
        return None
    return "sata" if vendor == "ATA" else "scsi"


def boot_mode() -> str:
    return "UEFI" if run.sys_exists("/sys/firmware/efi") else "BIOS"


def collect(failures: list[Failure]) -> dict[str, object]:
    """CPU, memory, disks and boot mode; what cannot be read is None and recorded."""
    cpu, memory, disks = Cpu(), None, None
    try:
        cpu = parse_guarded(NAME, parse_cpuinfo, run.read_sys("/proc/cpuinfo"), failures, Cpu())
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"/proc/cpuinfo: {exc.strerror or exc}"))
    try:
        memory = parse_guarded(NAME, parse_meminfo, run.read_sys("/proc/meminfo"), failures, None)
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"/proc/meminfo: {exc.strerror or exc}"))
    try:
        disks = [asdict(disk) for disk in read_disks()]
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"/sys/block: {exc.strerror or exc}"))
    return {"cpu": asdict(cpu), "memory_bytes": memory, "disks": disks, "boot_mode": boot_mode()}
