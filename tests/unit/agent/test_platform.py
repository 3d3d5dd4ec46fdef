"""Memory modules, PCI devices, Secure Boot and the TPM."""

from __future__ import annotations

from arrow_agent.collectors import Failure, platform
from arrow_agent.collectors.platform import MemoryModule
from tests.fakeroot import FIXTURES

DUMPS = FIXTURES / "dmidecode"


def test_memory_modules_of_a_server_skip_empty_slots():
    modules = platform.parse_memory((DUMPS / "dell-poweredge-r640.txt").read_text()).facts
    assert len(modules) == 8  # 24 slots, 16 "No Module Installed"
    assert modules[0] == MemoryModule(
        slot="A1",
        bank=None,
        size_mb=32768,
        type="DDR4",
        speed_mts=2933,
        manufacturer="00CE00B300CE",
        part_number="M393A4K40CB2-CVF",
        serial="3780385B",
    )


def test_memory_modules_of_a_dmidecode_22_dump_with_two_line_handles():
    text = (DUMPS / "ibm-x226-dmidecode22-two-line-handle.txt").read_text()
    first = platform.parse_memory(text).facts[0]
    assert (first.slot, first.bank, first.size_mb, first.speed_mts) == (
        "DIMM 1",
        "BANK 1",
        512,
        400,
    )
    assert (first.manufacturer, first.serial) == (None, "460360BB")  # blank manufacturer


def test_secure_boot_off_on_and_without_uefi(fake_root):
    assert platform.secure_boot() is None  # no /sys/firmware/efi: BIOS boot
    fake_root.file("/sys/firmware/efi/fw_platform_size", "64\n")
    assert platform.secure_boot() is None  # UEFI, efivarfs not mounted: unknown, not "off"
    fake_root.file(f"{platform.EFIVARS}/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c", b"")
    assert platform.secure_boot() is False  # UEFI without the variable: not enabled
    fake_root.file(platform.SECURE_BOOT_VAR, b"\x06\x00\x00\x00\x00")
    assert platform.secure_boot() is False
    fake_root.file(platform.SECURE_BOOT_VAR, b"\x06\x00\x00\x00\x01")
    assert platform.secure_boot() is True


def test_tpm_presence_and_version(fake_root):
    assert platform.tpm() == {"present": False, "version": None}
    fake_root.file("/sys/class/tpm/tpm0/dev", "10:224\n")
    assert platform.tpm() == {"present": True, "version": None}  # TPM 1.2 kernels say nothing
    fake_root.file("/sys/class/tpm/tpm0/tpm_version_major", "2\n")
    assert platform.tpm() == {"present": True, "version": 2}


def test_a_machine_without_pci_is_a_read_failure(fake_root):
    failures: list[Failure] = []
    facts = platform.collect(failures, None)
    assert facts["pci_devices"] is None
    assert facts["memory_modules"] is None
    assert [(f.collector, f.stage) for f in failures] == [("platform", "read")]


def test_uefi_without_readable_variables_says_secure_boot_is_unknown(fake_root):
    fake_root.file("/sys/firmware/efi/fw_platform_size", "64\n")
    failures: list[Failure] = []
    assert platform.collect(failures, None)["secure_boot"] is None
    unknown = "UEFI, but /sys/firmware/efi/efivars is empty: Secure Boot unknown"
    assert unknown in [f.message for f in failures]
    fake_root.file(f"{platform.EFIVARS}/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c", b"")
    failures.clear()
    assert platform.collect(failures, None)["secure_boot"] is False
    assert unknown not in [f.message for f in failures]
