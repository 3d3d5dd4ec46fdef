"""The BMC collector, on real `ipmitool lan print` captures (tests/fixtures/SOURCES.tsv)."""

from __future__ import annotations

from arrow_agent.collectors import Failure, bmc, net
from arrow_agent.inventory import collect_inventory
from tests.fakeroot import FIXTURES

LAN_PRINT = ["ipmitool", "lan", "print"]


def test_an_ami_bmc_on_dhcp():
    parsed = bmc.parse((FIXTURES / "ipmitool/ami-dhcp-lan-print.txt").read_text())
    assert parsed.warnings == []
    assert parsed.facts == bmc.BmcLan(
        bmc_address="192.168.120.198",
        bmc_mac="00:08:00:01:00:01",
        ip_source="DHCP Address",
        netmask="255.255.255.0",
        gateway="192.168.120.254",
        vlan_id=None,  # "Disabled"
    )


def test_an_indented_capture_with_bare_continuation_lines():
    parsed = bmc.parse((FIXTURES / "ipmitool/puppet-ipmi-indented-channel1.txt").read_text())
    assert (parsed.facts.bmc_address, parsed.facts.bmc_mac, parsed.facts.gateway) == (
        "192.168.0.37",
        "3c:a8:2a:9f:9a:92",
        "192.168.0.1",
    )


def test_no_address_yet_and_a_vlan():
    text = "IP Address              : 0.0.0.0\nMAC Address             : 00:00:00:00:00:00\n"
    text += "802.1q VLAN ID          : 120\n"
    assert bmc.parse(text).facts == bmc.BmcLan(vlan_id=120)


def test_output_without_a_mac_line_is_a_warning():
    parsed = bmc.parse("Invalid channel: 1\n")
    assert parsed.facts == bmc.BmcLan()
    assert parsed.warnings == ["ipmitool lan print: no MAC Address line; output not understood"]


def test_no_bmc_interface_means_no_question_and_no_error(fake_root):
    failures: list[Failure] = []
    assert bmc.collect(failures) == {}
    assert failures == []


def test_a_bmc_interface_is_asked(fake_root):
    fake_root.file("/dev/ipmi0", "").fixture(LAN_PRINT, "ipmitool/ami-dhcp-lan-print.txt")
    failures: list[Failure] = []
    lan = bmc.collect(failures)["bmc"]
    assert (lan["bmc_address"], lan["bmc_mac"]) == ("192.168.120.198", "00:08:00:01:00:01")
    assert failures == []


def test_a_bmc_interface_without_ipmitool_is_a_read_error(fake_root):
    fake_root.file("/dev/ipmi0", "")
    failures: list[Failure] = []
    assert bmc.collect(failures) == {"bmc": {key: None for key in bmc.BmcLan.__annotations__}}
    assert [(f.collector, f.stage) for f in failures] == [("bmc", "read")]


def usb_bmc_nic(fake_root, name: str, mac: str, usb_id: str) -> None:
    vendor, product = usb_id.split(":")
    device = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3"
    fake_root.file(f"{device}/idVendor", f"{vendor}\n").file(f"{device}/idProduct", f"{product}\n")
    fake_root.file(f"/sys/class/net/{name}/address", f"{mac}\n")
    fake_root.file(f"/sys/class/net/{name}/operstate", "up\n")
    fake_root.link(
        f"/sys/class/net/{name}/device",
        "../../../devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0",
    )
    fake_root.link(f"{device}/1-3:1.0/driver", "../../../../../../bus/usb/drivers/cdc_ether")


def test_a_bmcs_usb_nic_is_listed_as_shared_and_never_identifies(fake_root):
    fake_root.nic("eno1", "3c:ec:ef:10:20:30", driver="igb", pci="0000:03:00.0")
    usb_bmc_nic(fake_root, "enx0a1b2c3d4e5f", "0a:1b:2c:3d:4e:5f", "046b:ffb0")
    nics = net.collect([])
    assert [(n.name, n.driver, n.shared) for n in nics] == [
        ("eno1", "igb", False),
        ("enx0a1b2c3d4e5f", "cdc_ether", True),
    ]
    assert net.mac_list(nics).facts == ["eno1:3c:ec:ef:10:20:30"]


def test_an_inventory_with_only_a_bmc_usb_nic_has_no_mac_identity(fake_root):
    usb_bmc_nic(fake_root, "usb0", "0a:1b:2c:3d:4e:5f", "413c:a102")
    inventory = collect_inventory(prefix="PVE", modem_wait=0, lldp_wait=0)
    assert inventory["mac_address"] == []
    assert inventory["device_name"] is None
    assert inventory["hardware"]["nics"][0]["shared"] is True
