"""The payload: every collector joined, the device_name rule, failures carried along."""

from __future__ import annotations

import re

import pytest

from arrow_agent import __version__
from arrow_agent.collectors import dmi
from arrow_agent.inventory import collect_inventory, device_name
from inventory.schemas import InventoryDataIn, SubmitIn
from tests.fakeroot import NUC_MACS, nuc


def test_device_name_is_prefix_and_eight_digits_of_the_serials_hash():
    assert device_name("PVE", "BTTN20900ABC", ["00:11:22:33:44:55"]) == "PVE-91792126"
    assert device_name("LAB", "BTTN20900ABC", []) == "LAB-91792126"
    assert re.fullmatch(r"PVE-\d{8}", device_name("PVE", "X", []))


def test_device_name_is_the_same_on_every_inventory_of_the_device():
    first = device_name("PVE", None, ["60:dd:8e:12:34:56", "1c:69:7a:0a:1b:2c"])
    again = device_name("PVE", None, ["1c:69:7a:0a:1b:2c", "60:dd:8e:12:34:56"])
    assert first == again == device_name("PVE", None, ["1c:69:7a:0a:1b:2c"])


@pytest.mark.parametrize(
    ("serial", "macs", "same_as"),
    [
        ("SN1", ["1c:69:7a:0a:1b:2c"], ("SN1", [])),
        (None, ["60:dd:8e:12:34:56", "1c:69:7a:0a:1b:2c"], (None, ["1c:69:7a:0a:1b:2c"])),
    ],
    ids=["a real serial decides, whatever the NICs", "else the lowest MAC decides"],
)
def test_device_name_identity(serial, macs, same_as):
    assert device_name("PVE", serial, macs) == device_name("PVE", *same_as)


def test_serial_and_mac_namespaces_do_not_collide():
    assert device_name("PVE", "1c:69:7a:0a:1b:2c", []) != device_name(
        "PVE", None, ["1c:69:7a:0a:1b:2c"]
    )


def test_device_name_without_serial_or_mac_is_none():
    assert device_name("PVE", None, []) is None


def test_inventory_of_a_nuc(fake_root):
    nuc(fake_root)
    inventory = collect_inventory(prefix="PVE", modem_wait=30)
    # The backend's schema of the body takes the payload as it is, and it fills every field.
    SubmitIn.model_validate({"inventory_data": inventory})
    assert set(inventory) == set(InventoryDataIn.model_fields)
    assert {key: value for key, value in inventory.items() if key != "hardware"} == {
        "mac_address": NUC_MACS,
        "device_name": "PVE-91792126",
        "serial_number": "BTTN20900ABC",
        "device_spec": "Intel Client Systems NUC11TNHi5",
        "has_modem": False,
        "imei": None,
        "hardware_generated_sn": True,
        "sn_source": "bios",
    }
    hardware = inventory["hardware"]
    assert hardware["agent_version"] == __version__
    assert hardware["dmi"]["system_serial"] == "To Be Filled By O.E.M."
    assert hardware["boot_mode"] == "UEFI"
    assert [nic["name"] for nic in hardware["nics"]] == ["enp86s0", "wlo1"]
    assert hardware["nics"][0]["speed_mbps"] == 2500
    assert hardware["disks"][0]["name"] == "nvme0n1"
    assert hardware["memory_bytes"] == 983496 * 1024
    assert hardware["modem"] == {
        "source": "sysfs",
        "sysfs_evidence": [],
        "modems": [],
        "imsi": None,
        "iccid": None,
        "model": None,
        "revision": None,
        "at_ports": [],
        "mbim_ports": [],
    }
    assert hardware["secure_boot"] is True
    assert hardware["tpm"] == {"present": True, "version": 2}
    assert [
        (d["bus"], d["vendor_id"], d["product_id"], d["class"], d["driver"])
        for d in hardware["pci_devices"]
    ] == [
        ("0000:00:14.3", "8086", "a0f0", "028000", "iwlwifi"),
        ("0000:56:00.0", "8086", "15f3", "020000", "igc"),
    ]
    assert [(m["slot"], m["size_mb"]) for m in hardware["memory_modules"]] == [("DIMM 0", 1024)]
    assert hardware["lldp"] == []  # a replayed machine has no network to listen on
    # The fake NUC has neither ip nor ModemManager: sysfs suffices for both; a missing ip is
    # said (the image has one), a missing mmcli is not (the default image has none).
    assert [
        (e["collector"], e["stage"], e["message"].split(" (")[0])
        for e in hardware["collection_errors"]
    ] == [("net", "read", "ip: command not found")]


def test_machine_without_any_identity_sends_nulls_and_says_why(fake_root):
    inventory = collect_inventory(prefix="PVE", modem_wait=0)
    assert inventory["mac_address"] == []
    assert inventory["serial_number"] is None
    assert inventory["hardware_generated_sn"] is False
    assert inventory["sn_source"] is None
    assert inventory["device_name"] is None
    errors = {(e["collector"], e["stage"]) for e in inventory["hardware"]["collection_errors"]}
    assert errors == {
        ("dmi", "read"),
        ("net", "read"),
        ("hardware", "read"),
        ("platform", "read"),
    }  # and no modem error: without a modem in sysfs, a missing mmcli leaves nothing unsaid


def test_a_broken_collector_is_recorded_and_the_others_still_report(fake_root, monkeypatch):
    nuc(fake_root)

    def broken(*args):
        raise KeyError("surprise")

    monkeypatch.setattr(dmi, "collect", broken)
    inventory = collect_inventory(prefix="PVE", modem_wait=0)
    assert inventory["mac_address"] == NUC_MACS
    assert inventory["serial_number"] is None
    assert inventory["device_name"] == device_name("PVE", None, ["1c:69:7a:0a:1b:2c"])
    assert inventory["hardware"]["collection_errors"][0] == {
        "collector": "dmi",
        "stage": "collect",
        "message": "KeyError: 'surprise'",
    }
