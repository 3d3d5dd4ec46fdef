"""Facts peers collect beyond identity: memory modules, PCI devices, Secure Boot and the TPM.

Memory modules come from the SMBIOS type 17 records of the dmidecode dump the DMI collector
already read (``parse_memory``); PCI devices, Secure Boot and the TPM from sysfs. Field names
follow ironic-python-agent's inventory where it has one (``pci_devices``: vendor_id,
product_id, class, revision, bus). Knows nothing about serial numbers of the machine.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed
from arrow_agent.collectors.dmi import records
from arrow_agent.serials import clean_serial, is_placeholder_serial

NAME = "platform"
EFIVARS = "/sys/firmware/efi/efivars"
SECURE_BOOT_VAR = f"{EFIVARS}/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


@dataclass(frozen=True)
class MemoryModule:
    slot: str | None = None
    bank: str | None = None
    size_mb: int | None = None
    type: str | None = None
    speed_mts: int | None = None
    manufacturer: str | None = None
    part_number: str | None = None
    serial: str | None = None


@dataclass(frozen=True)
class PciDevice:
    bus: str
    vendor_id: str | None = None
    product_id: str | None = None
    class_: str | None = None
    revision: str | None = None
    driver: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        values = asdict(self)
        values["class"] = values.pop("class_")
        return values


_SIZE = re.compile(r"(\d+)\s*(MB|GB|TB|MiB|GiB|TiB|kB)", re.IGNORECASE)
_MB = {"kb": 1 / 1024, "mb": 1, "mib": 1, "gb": 1024, "gib": 1024, "tb": 1024**2, "tib": 1024**2}


def _size_mb(text: str | None) -> int | None:
    match = _SIZE.search(text or "")
    return int(int(match.group(1)) * _MB[match.group(2).casefold()]) if match else None


def _number(text: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", text or "")
    return int(match.group(1)) if match else None


def _real(text: str | None) -> str | None:
    return None if is_placeholder_serial(text) or text is None else text.strip()


def parse_memory(text: str) -> Parsed[list[MemoryModule]]:
    """Populated memory slots (SMBIOS type 17) of a dmidecode dump; empty slots are left out."""
    modules = []
    for record in records(text):
        if record.type != 17:
            continue
        fields = record.fields
        size = _size_mb(fields.get("Size"))
        if size is None:  # "No Module Installed"
            continue
        modules.append(
            MemoryModule(
                slot=_real(fields.get("Locator")),
                bank=_real(fields.get("Bank Locator")),
                size_mb=size,
                type=_real(fields.get("Type")),
                speed_mts=_number(fields.get("Configured Memory Speed") or fields.get("Speed")),
                manufacturer=_real(fields.get("Manufacturer")),
                part_number=_real(fields.get("Part Number")),
                serial=clean_serial(fields.get("Serial Number")),
            )
        )
    return Parsed(modules)


def _value(path: str) -> str | None:
    try:
        return run.read_sys(path).strip() or None
    except OSError:
        return None


def read_pci() -> list[PciDevice]:
    """Every PCI function under /sys/bus/pci/devices; raises OSError when it cannot be listed."""
    devices = []
    for bus in run.list_sys("/sys/bus/pci/devices"):
        base = f"/sys/bus/pci/devices/{bus}"
        devices.append(
            PciDevice(
                bus=bus,
                vendor_id=_hex(_value(f"{base}/vendor")),
                product_id=_hex(_value(f"{base}/device")),
                class_=_hex(_value(f"{base}/class")),
                revision=_hex(_value(f"{base}/revision")),
                driver=run.sys_link_name(f"{base}/driver"),
            )
        )
    return devices


def _hex(text: str | None) -> str | None:
    return text[2:] if text and text.startswith("0x") else text


def secure_boot() -> bool | None:
    """The SecureBoot EFI variable (4 attribute bytes, then 1 or 0). None without UEFI, and
    None when no EFI variable can be read (efivarfs not mounted): unknown, never "off"."""
    try:
        data = run.read_sys_bytes(SECURE_BOOT_VAR)
    except OSError:
        return False if _efi_variables_readable() else None
    return len(data) >= 5 and data[4] == 1


def _efi_variables_readable() -> bool:
    """A UEFI machine always has variables (BootOrder, ...); an empty or missing directory is
    efivarfs not mounted, or no UEFI at all."""
    try:
        return bool(run.list_sys(EFIVARS))
    except OSError:
        return False


def tpm() -> dict[str, object]:
    """Whether the kernel sees a TPM, and its major version (1 or 2) when it says."""
    try:
        names = [name for name in run.list_sys("/sys/class/tpm") if name.startswith("tpm")]
    except OSError:
        names = []
    if not names:
        return {"present": False, "version": None}
    major = _value(f"/sys/class/tpm/{names[0]}/tpm_version_major")
    return {"present": True, "version": int(major) if major and major.isdigit() else None}


def collect(failures: list[Failure], dmidecode_text: str | None) -> dict[str, object]:
    """memory_modules, pci_devices, secure_boot and tpm for the hardware object."""
    modules = None
    if dmidecode_text is not None:
        modules = [asdict(m) for m in parse_memory(dmidecode_text).facts]
    try:
        pci = [device.as_dict() for device in read_pci()]
    except OSError as exc:
        failures.append(Failure(NAME, "read", f"/sys/bus/pci/devices: {exc.strerror or exc}"))
        pci = None
    enabled = secure_boot()
    if enabled is None and run.sys_exists("/sys/firmware/efi"):
        failures.append(Failure(NAME, "read", f"UEFI, but {EFIVARS} is empty: Secure Boot unknown"))
    return {
        "memory_modules": modules,
        "pci_devices": pci,
        "secure_boot": enabled,
        "tpm": tpm(),
    }
