"""CPU, memory, disks and boot mode for the hardware object."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.collectors import Failure, hardware
from arrow_agent.collectors.hardware import Cpu
from tests.fakeroot import FIXTURES

CPUINFO = (FIXTURES / "proc/qemu-tcg-2cpu-cpuinfo.txt").read_text()
MEMINFO = (FIXTURES / "proc/qemu-1g-meminfo.txt").read_text()


def test_cpuinfo_captured_in_the_guest():
    parsed = hardware.parse_cpuinfo(CPUINFO)
    assert parsed.facts == Cpu(model="QEMU Virtual CPU version 2.5+", cores=2, threads=2)
    assert parsed.warnings == []


def test_hyperthreads_share_a_core():
    block = (
        "processor\t: {n}\nmodel name\t: Intel(R) Core(TM) i5\nphysical id\t: 0\ncore id\t\t: {c}\n"
    )
    text = "\n".join(block.format(n=n, c=n % 2) for n in range(4))
    assert hardware.parse_cpuinfo(text).facts == Cpu("Intel(R) Core(TM) i5", cores=2, threads=4)


def test_arm_cpuinfo_without_core_ids_counts_processors():
    text = (
        "processor\t: 0\nBogoMIPS\t: 48.00\n\n"
        "processor\t: 1\nBogoMIPS\t: 48.00\n\n"
        "Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
    )
    assert hardware.parse_cpuinfo(text).facts == Cpu("Raspberry Pi 4 Model B Rev 1.4", 2, 2)


def test_meminfo_total_in_bytes():
    assert hardware.parse_meminfo(MEMINFO).facts == 983496 * 1024


@given(st.text())
def test_proc_parsers_are_total(text):
    assert isinstance(hardware.parse_cpuinfo(text).facts, Cpu)
    memory = hardware.parse_meminfo(text).facts
    assert memory is None or memory >= 0


@pytest.mark.parametrize(
    ("data", "serial"),
    [
        (b"\x00\x80\x00\x14" + b"  WD-WCC4N7XK1234    ", "WD-WCC4N7XK1234"),
        (b"\x00\x80\x00\x08S3Z9NB0K\x00\x00", "S3Z9NB0K"),
        (b"\x00\x83\x00\x04abcd", None),
        (b"\x00\x80", None),
        (b"\x00\x80\x00\x04    ", None),
    ],
    ids=["padded ATA serial", "trailing bytes past the length", "another page", "short", "blank"],
)
def test_vpd_page_80_serial(data, serial):
    assert hardware.parse_vpd_serial(data) == serial


def test_disks_on_a_device_with_model_serial_size_and_rotation(fake_root):
    fake_root.disk("nvme0n1", sectors=1000215216, model="Samsung SSD 980", serial="S649NX0T")
    fake_root.disk("sda", sectors=1953525168, model="WDC WD10EZEX", rotational="1")
    fake_root.file("/sys/block/sda/device/vpd_pg80", b"\x00\x80\x00\x0cWD-WCC3F1234")
    fake_root.disk("loop0", sectors=0, physical=False)
    fake_root.disk("dm-0", sectors=2048, physical=False)
    assert hardware.read_disks() == [
        hardware.Disk("nvme0n1", 1000215216 * 512, "Samsung SSD 980", "S649NX0T", False, "nvme"),
        hardware.Disk("sda", 1953525168 * 512, "WDC WD10EZEX", "WD-WCC3F1234", True),
    ]


def test_boot_mode_follows_efi_firmware_directory(fake_root):
    assert hardware.boot_mode() == "BIOS"
    fake_root.file("/sys/firmware/efi/fw_platform_size", "64\n")
    assert hardware.boot_mode() == "UEFI"


def test_collect_on_an_empty_machine_records_what_it_could_not_read(fake_root):
    failures: list[Failure] = []
    facts = hardware.collect(failures)
    assert facts == {
        "cpu": {"model": None, "cores": None, "threads": None},
        "memory_bytes": None,
        "disks": None,
        "boot_mode": "BIOS",
    }
    assert [f.message.split(":")[0] for f in failures] == [
        "/proc/cpuinfo",
        "/proc/meminfo",
        "/sys/block",
    ]


def test_collect_on_the_captured_proc_files(fake_root):
    fake_root.file("/proc/cpuinfo", CPUINFO).file("/proc/meminfo", MEMINFO)
    fake_root.disk("vda", sectors=41943040, serial="virtio-disk-1")
    failures: list[Failure] = []
    facts = hardware.collect(failures)
    assert facts["cpu"] == {"model": "QEMU Virtual CPU version 2.5+", "cores": 2, "threads": 2}
    assert facts["disks"][0]["serial"] == "virtio-disk-1"
    assert failures == []


def test_disk_transport_and_wwn(fake_root):
    fake_root.disk("nvme0n1", sectors=100, model="Samsung SSD 980", serial="S64")
    fake_root.file("/sys/block/nvme0n1/wwid", "eui.0025385b11b0a2c1\n")
    fake_root.disk("sda", sectors=100, model="ST1000DM003")
    fake_root.file("/sys/block/sda/device/vendor", "ATA     \n")
    fake_root.file("/sys/block/sda/device/wwid", "naa.5000c500a1b2c3d4\n")
    fake_root.disk("sdb", sectors=100, model="PERC H730")
    fake_root.file("/sys/block/sdb/device/vendor", "DELL    \n")
    disks = {d.name: (d.transport, d.wwn) for d in hardware.read_disks()}
    assert disks == {
        "nvme0n1": ("nvme", "eui.0025385b11b0a2c1"),
        "sda": ("sata", "naa.5000c500a1b2c3d4"),
        "sdb": ("scsi", None),
    }
