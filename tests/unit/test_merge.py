"""Merge and the hardware lines, from tables of cases: pure functions, no database."""

from __future__ import annotations

import pytest

from inventory.services.hardware import hardware_changes
from inventory.services.macs import ReportedMac
from inventory.services.merge import NEW_DEVICE, InventoryData, merge

MAC = "00:e0:4c:92:f7:a4"
HARDWARE = {
    "agent_version": "0.1.0",
    "memory_bytes": 16 * 2**30,
    "disks": [{"name": "nvme0n1", "serial": "S4EWNX0R", "size_bytes": 512 * 10**9}],
    "nics": [{"name": "eth0", "mac": MAC, "driver": "igc"}],
    "dmi": {"bios_version": "1.0.3", "system_manufacturer": "Intel"},
    "collection_errors": [],
}
CURRENT = {
    **NEW_DEVICE,
    "name": "PVE-1234",
    "serial_number": "ABC123XYZ",
    "sn_source": "dmidecode",
    "hardware_generated_sn": True,
    "spec": "Intel NUC 11 Pro",
    "reported_spec": "Intel NUC 11 Pro",
    "macs": [f"eth0:{MAC}"],
    "hardware": HARDWARE,
}


def data(**overrides) -> InventoryData:
    values = {
        "macs": [ReportedMac(mac=MAC, interface="eth0")],
        "device_name": "PVE-1234",
        "serial_number": "ABC123XYZ",
        "device_spec": "Intel NUC 11 Pro",
        "sn_source": "dmidecode",
        "hardware_generated_sn": True,
        "hardware": HARDWARE,
    }
    return InventoryData(**{**values, **overrides})


def hw(**overrides) -> dict:
    return {**HARDWARE, **overrides}


CASES = [
    # (case, locked, submission, matched spec, expected changes, expected notes)
    ("identical re-submission", (), data(), "Intel NUC 11 Pro", {}, []),
    ("hardware omitted keeps it", (), data(hardware={}), "Intel NUC 11 Pro", {}, []),
    (
        "new name",
        (),
        data(device_name="PVE-9"),
        "Intel NUC 11 Pro",
        {"name": ["PVE-1234", "PVE-9"]},
        [],
    ),
    ("locked name stays", ("name",), data(device_name="PVE-9"), "Intel NUC 11 Pro", {}, []),
    ("locked spec stays", ("spec",), data(), None, {}, []),
    (
        "spec no longer matches",
        (),
        data(),
        None,
        {"spec": ["Intel NUC 11 Pro", None]},
        [],
    ),
    (
        "placeholder serial keeps the known one",
        (),
        data(serial_number="To Be Filled By O.E.M."),
        "Intel NUC 11 Pro",
        {},
        [
            "kept serial 'ABC123XYZ': the submission reported placeholder serial "
            "'To Be Filled By O.E.M.'"
        ],
    ),
    (
        "no serial keeps the known one",
        (),
        data(serial_number=None),
        "Intel NUC 11 Pro",
        {},
        ["kept serial 'ABC123XYZ': the submission reported no serial"],
    ),
    (
        "RAM upgrade",
        (),
        data(hardware=hw(memory_bytes=32 * 2**30)),
        "Intel NUC 11 Pro",
        {"memory": ["16 GiB", "32 GiB"]},
        [],
    ),
    (
        "swapped disk",
        (),
        data(hardware=hw(disks=[{"name": "nvme0n1", "serial": "S5GXNG0N"}])),
        "Intel NUC 11 Pro",
        {"disk nvme0n1": ["S4EWNX0R", "S5GXNG0N"]},
        [],
    ),
    (
        "NIC added",
        (),
        data(hardware=hw(nics=[*HARDWARE["nics"], {"name": "eth1", "mac": "02:00:00:00:00:09"}])),
        "Intel NUC 11 Pro",
        {"NIC eth1": [None, "added 02:00:00:00:00:09"]},
        [],
    ),
    (
        "NIC gone",
        (),
        data(hardware=hw(nics=[])),
        "Intel NUC 11 Pro",
        {"NIC eth0": [f"{MAC} igc", "gone"]},
        [],
    ),
    (
        "BIOS update",
        (),
        data(hardware=hw(dmi={"bios_version": "1.2.0", "system_manufacturer": "Intel"})),
        "Intel NUC 11 Pro",
        {"BIOS version": ["1.0.3", "1.2.0"]},
        [],
    ),
    (
        "new agent, a collector failing",
        (),
        data(
            hardware=hw(
                agent_version="0.2.0",
                collection_errors=[{"collector": "modem", "stage": "read", "message": "x"}],
            )
        ),
        "Intel NUC 11 Pro",
        {"agent version": ["0.1.0", "0.2.0"], "collection errors": [[], ["modem read"]]},
        [],
    ),
    (
        "a fact without a rule of its own",
        (),
        data(hardware=hw(tpm={"present": True})),
        "Intel NUC 11 Pro",
        {"hardware tpm": [None, '{"present": true}']},
        [],
    ),
]


@pytest.mark.parametrize(
    ("locked", "submitted", "spec", "changes", "notes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_merge(locked, submitted, spec, changes, notes):
    merged = merge(CURRENT, locked, submitted, matched_spec=spec)
    assert merged.changes == changes
    assert merged.notes == notes
    assert merged.facts["hardware"] == (submitted.hardware or CURRENT["hardware"])


def test_merge_does_not_change_its_input():
    before = {**CURRENT, "hardware": dict(HARDWARE)}
    merge(before, (), data(device_name="X", hardware=hw(memory_bytes=1)), matched_spec=None)
    assert before == {**CURRENT, "hardware": HARDWARE}


def test_merge_of_a_new_device_takes_every_reported_fact():
    merged = merge(dict(NEW_DEVICE), (), data(), matched_spec="Intel NUC 11 Pro")
    assert merged.facts == CURRENT
    assert merged.changes["serial_number"] == [None, "ABC123XYZ"]


@pytest.mark.parametrize(
    ("old", "new", "lines"),
    [
        ({}, {}, {}),
        (
            {"memory_bytes": 16777216000},
            {"memory_bytes": 16 * 2**30},
            {"memory": ["15.6 GiB", "16 GiB"]},
        ),
        ({"disks": "odd"}, {"disks": []}, {"hardware disks": ["odd", "[]"]}),
        ({"disks": [{"name": "sda", "serial": "X"}]}, {}, {"disk sda": ["X", "gone"]}),
        ({"secure_boot": False}, {"secure_boot": True}, {"secure boot": [False, True]}),
    ],
)
def test_hardware_lines(old, new, lines):
    assert hardware_changes(old, new) == lines
