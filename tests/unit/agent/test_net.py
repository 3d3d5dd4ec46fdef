"""The network collector: physical NICs, permanent MACs, and the ip fallback's heuristics."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.collectors import Failure, net
from tests.fakeroot import FIXTURES, FakeRoot

IPLINK = FIXTURES / "iplink"
QEMU_MACS = ["eth0:52:54:00:a0:00:01", "eth1:52:54:00:a0:00:02", "eth2:52:54:00:a0:00:03"]

# Every ip capture, with the physical NICs read off it by hand. What is missing from a list is
# excluded on purpose: lo, bonds, bridges (br*, virbr*, incusbr0, ovs), VLANs and other
# "name@parent" links, veth, vnet, tun/tap, docker, macvlan, ppp, gre/geneve/vxlan,
# link/none and link/infiniband, and SR-IOV "vf N" lines, which are settings, not interfaces.
EXPECTED = {
    "cloudinit-ipaddr-enp0s25.txt": ["enp0s25:50:7b:9d:2c:af:91"],
    # eth3 is a bond member without permaddr, so it reports the bond's MAC: sent once.
    "facter-oneline-ib-bond.txt": ["ens160:00:50:56:9a:51:af", "eth2:08:00:27:29:dc:a5"],
    "facter-vmware-ens160.txt": ["ens160:00:50:56:9a:cb:a4"],
    "glpi-ipaddr-macvlan-docker.txt": [
        "eth0:e4:11:5b:ed:36:0c",
        "eth2:e4:11:5b:ed:36:0e",
        "eth1:e4:11:5b:ed:36:38",
        "eth3:e4:11:5b:ed:36:3a",
    ],
    "glpi-ipaddr-tun-tap-wlan.txt": ["eth0:00:23:18:91:db:8d", "wlan0:e8:39:df:3f:7d:ef"],
    "glpi-ipaddr-wlan-bond-bridge.txt": ["wlan0:00:1a:6b:0d:78:03", "eth0:f0:1f:af:0f:a4:0c"],
    "insights-bond-ovs-gre-geneve.txt": [
        "eth0:0c:c4:7a:4d:84:b4",
        "eth1:0c:c4:7a:4d:84:b5",
        "eth0_1:00:90:fa:8d:36:1e",
        "eth0_2:00:90:fa:8d:36:22",  # perm_hwaddr on its bond_slave line, not the bond's MAC
    ],
    "insights-kvm-bond-permaddr.txt": ["enp1s0:52:54:00:36:37:ea", "enp2s0:52:54:00:c9:b9:47"],
    "insights-laptop-virbr-ppp-tun.txt": [
        "enp0s25:1c:75:08:a5:7e:25",
        "wlp3s0:86:62:bd:26:12:63",
    ],
    "insights-ovs-eno.txt": ["eno1:38:90:a5:80:43:c9", "eno2:38:90:a5:80:43:ca"],
    "insights-sriov-vf-lines.txt": [
        "ens1f0:b4:96:91:e5:c8:a8",
        "ens1f1:b4:96:91:e5:c8:a9",
        "ens1f1v64:76:47:d1:15:9f:59",
    ],
    "phoenixnap-bond-vlan-permaddr.txt": [
        "enp1s0f0:3c:ec:ef:b1:ff:de",
        "enp1s0f1:3c:ec:ef:b1:ff:df",  # permaddr, not the bond's 3c:ec:ef:b1:ff:de
    ],
    "qemu-e1000-bond-vlan-bridge-d.txt": QEMU_MACS,
    "qemu-e1000-bond-vlan-bridge-j-d.json": QEMU_MACS,
    "qemu-e1000-bond-vlan-bridge-j.json": QEMU_MACS,
    "qemu-e1000-bond-vlan-bridge-oneline.txt": QEMU_MACS,
    "qemu-e1000-bond-vlan-bridge.txt": QEMU_MACS,
}


def macs_of(name: str) -> list[str]:
    links = net.parse_ip((IPLINK / name).read_text())
    assert links.warnings == []
    return net.mac_list(net.nics_from_ip(links.facts)).facts


def test_every_ip_capture_in_the_fixtures_has_a_row_in_the_table():
    assert sorted(p.name for p in IPLINK.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_ip_capture_gives_the_physical_nics_read_off_it_by_hand(name, expected):
    assert macs_of(name) == expected


def test_sriov_vf_lines_are_not_interfaces_nor_their_parents_mac():
    links = net.parse_ip((IPLINK / "insights-sriov-vf-lines.txt").read_text()).facts
    assert [link.name for link in links] == ["lo", "ens1f0", "ens1f1", "ens1f1v64"]
    assert links[2].address == "b4:96:91:e5:c8:a9"


def test_bond_members_sharing_a_mac_without_permaddr_are_sent_once_with_a_warning():
    links = net.parse_ip((IPLINK / "facter-oneline-ib-bond.txt").read_text()).facts
    pairs = net.mac_list(net.nics_from_ip(links))
    assert pairs.warnings == ["eth3 reports the same MAC as eth2; sent once"]


def test_json_capture_marks_each_virtual_link_by_kind_or_parent():
    links = {
        link.name: link
        for link in net.parse_ip(
            (IPLINK / "qemu-e1000-bond-vlan-bridge-j-d.json").read_text()
        ).facts
    }
    assert links["eth2"].address == "52:54:00:a0:00:02"  # the bond's MAC...
    assert links["eth2"].permanent == "52:54:00:a0:00:03"  # ...and its own
    assert (links["bond0"].kind, links["br0"].kind, links["tap0"].kind) == ("bond", "bridge", "tun")
    assert links["eth0.10"].stacked
    assert links["veth1"].stacked
    assert links["tun0"].link_type == "none"
    assert [name for name, link in links.items() if link.looks_physical] == ["eth0", "eth1", "eth2"]


@pytest.mark.parametrize(
    ("name", "virtual"),
    [
        ("lo", True),
        ("br0", True),
        ("br-ex", True),
        ("virbr0-nic", True),
        ("incusbr0", True),
        ("vmbr0", True),
        ("bond0", True),
        ("veth67f1bc68", True),
        ("vnet0", True),
        ("docker0", True),
        ("tap0", True),
        ("tun1", True),
        ("ovs-system", True),
        ("vxlan_sys_4789", True),
        ("gretap0", True),
        ("geneve1", True),
        ("ppp0", True),
        ("wg0", True),
        ("eth0", False),
        ("enp1s0f1", False),
        ("eno1", False),
        ("wlp3s0", False),
        ("wwan0", False),
        ("ib0", False),
        ("ens1f1v64", False),
    ],
)
def test_virtual_names_used_without_sysfs(name, virtual):
    assert net.is_virtual_name(name) is virtual


@given(st.text())
def test_ip_parsers_are_total_on_any_text(text):
    assert isinstance(net.parse_ip(text).facts, list)
    assert isinstance(net.parse_ip_json(text).facts, list)
    assert isinstance(net.parse_ip("[" + text).facts, list)


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("[{", "not JSON"),
        ('{"ifname": "eth0"}', "ip output lists no interfaces"),
        ('[{"ifname": 3}, "x", {"ifname": "eth0", "address": 7}]', None),
    ],
    ids=["broken JSON", "JSON object is read as text", "odd entries are skipped"],
)
def test_odd_ip_output_is_a_warning_not_an_error(text, warning):
    parsed = net.parse_ip(text)
    if warning is None:
        assert parsed.warnings == []
        assert [link.name for link in parsed.facts] == ["eth0"]
    else:
        assert warning in parsed.warnings[0]


# --- sysfs -------------------------------------------------------------------------------


def machine_from_qemu_capture(root: FakeRoot, *, perm_hwaddr: bool = True) -> None:
    """/sys/class/net as `ls -l` showed it in the QEMU guest: symbolic links into
    /sys/devices, device links for the three e1000 NICs, bonding_masters as a plain file;
    addresses from the ip capture of the same boot, perm_hwaddr from its capture."""
    links = json.loads((IPLINK / "qemu-e1000-bond-vlan-bridge-j-d.json").read_text())
    addresses = {link["ifname"]: link["address"] for link in links if "address" in link}
    listing = (FIXTURES / "sysfs/qemu-e1000-bond-ls-l-sys-class-net.txt").read_text()
    for name, target in re.findall(r" (\S+) -> \.\./\.\./(\S+)", listing):
        root.link(f"/sys/class/net/{name}", f"../../{target}")
        root.file(f"/sys/{target}/address", f"{addresses.get(name, '')}\n")
        root.file(f"/sys/{target}/operstate", "up\n")
        pci = re.match(r"devices/pci0000:00/([^/]+)/net/", target)
        if pci:
            root.link(f"/sys/{target}/device", f"../../../{pci.group(1)}")
            root.link(
                f"/sys/devices/pci0000:00/{pci.group(1)}/driver", "../../../bus/pci/drivers/e1000"
            )
    assert " bonding_masters\n" in listing
    root.file("/sys/class/net/bonding_masters", "bond0\n")
    if perm_hwaddr:
        captured = (FIXTURES / "sysfs/qemu-e1000-bond-perm-hwaddr.txt").read_text()
        for path, mac in re.findall(r"(\S+) (\S+)", captured):
            root.file(path, f"{mac}\n")


def test_sysfs_rule_keeps_device_backed_nics_with_their_permanent_mac(fake_root):
    machine_from_qemu_capture(fake_root)
    failures: list[Failure] = []
    nics = net.collect(failures)
    assert net.mac_list(nics).facts == QEMU_MACS
    assert {nic.driver for nic in nics} == {"e1000"}
    assert [f.message for f in failures] == [
        "ip: command not found (no commands/ip-j-d-link.txt under "
        f"{fake_root.path}); ip: command not found (no commands/ip-link.txt under {fake_root.path})"
    ]


def test_sysfs_nic_takes_ips_permaddr_when_sysfs_has_no_perm_hwaddr(fake_root):
    machine_from_qemu_capture(fake_root, perm_hwaddr=False)
    fake_root.fixture(["ip", "-j", "-d", "link"], "iplink/qemu-e1000-bond-vlan-bridge-j-d.json")
    failures: list[Failure] = []
    assert net.mac_list(net.collect(failures)).facts == QEMU_MACS
    assert failures == []


def test_without_any_permanent_address_a_bond_member_repeats_the_bonds_mac(fake_root):
    machine_from_qemu_capture(fake_root, perm_hwaddr=False)
    pairs = net.mac_list(net.collect([]))
    assert pairs.facts == QEMU_MACS[:2]
    assert pairs.warnings == ["eth2 reports the same MAC as eth1; sent once"]


def test_wsl1_links_all_point_into_virtual_so_nothing_is_physical(fake_root):
    listing = (FIXTURES / "sysfs/wsl1-ls-l-sys-class-net.txt").read_text()
    for n, (name, target) in enumerate(re.findall(r" (\S+) -> \.\./\.\./(\S+)", listing)):
        fake_root.link(f"/sys/class/net/{name}", f"../../{target}")
        fake_root.file(f"/sys/{target}/address", f"00:15:5d:00:00:0{n}\n")
    # sysfs can be listed, so it decides, even though ip would call eth0 physical.
    fake_root.fixture(["ip", "link"], "iplink/facter-vmware-ens160.txt")
    assert net.collect([]) == []


def test_udev_devpath_of_a_vmware_e1000_is_a_physical_nic(fake_root):
    info = (FIXTURES / "sysfs/udevadm-info-ens33-vmware.txt").read_text()
    devpath = re.search(r"^E: DEVPATH=/(\S+)$", info, re.MULTILINE).group(1)
    mac = re.search(r"^E: ID_NET_NAME_MAC=enx(\w{12})$", info, re.MULTILINE).group(1)
    driver = re.search(r"^E: ID_NET_DRIVER=(\S+)$", info, re.MULTILINE).group(1)
    parent = devpath.rsplit("/net/", 1)[0]
    fake_root.link("/sys/class/net/ens33", f"../../{devpath}")
    fake_root.file(f"/sys/{devpath}/address", f"{mac}\n")
    fake_root.link(f"/sys/{devpath}/device", "../../../0000:02:01.0")
    fake_root.link(f"/sys/{parent}/driver", f"../../../../bus/pci/drivers/{driver}")
    (nic,) = net.collect([])
    assert (nic.name, nic.mac, nic.driver) == ("ens33", "00:0c:29:d2:1e:2e", "e1000")


def test_attribute_walk_of_a_pcie_port_gives_its_link_state(fake_root):
    walk = (FIXTURES / "sysfs/udevadm-attribute-walk-enp130s0f0.txt").read_text()
    devpath = re.search(r"looking at device '/(\S+)'", walk).group(1)
    fake_root.link("/sys/class/net/enp130s0f0", f"../../{devpath}")
    for attribute, value in re.findall(r'ATTR\{([^}]+)\}=="([^"]*)"', walk):
        fake_root.file(f"/sys/{devpath}/{attribute}", f"{value}\n")
    fake_root.link(f"/sys/{devpath}/device", "../../../0000:82:00.0")
    (nic,) = net.collect([])
    assert nic == net.Nic(
        name="enp130s0f0", mac="b0:26:28:9b:f3:24", operstate="down", carrier=False
    )


def test_sysfs_skips_virtual_zero_and_non_ethernet_addresses(fake_root):
    fake_root.nic("enp0s31f6", "00:E0:4C:92:F7:A4", speed="-1", carrier="0", operstate="down")
    fake_root.nic("wlo1", "08:bf:b8:c0:c5:83", driver="iwlwifi", pci="0000:00:14.3", speed=None)
    fake_root.nic("docker0", "02:42:0c:d5:0f:d7", pci=None)
    fake_root.nic(
        "ib0", "80:00:02:08:fa:81:00:00:00:00:00:00:00:23:7d:ff:ff:94:73:fd", pci="0000:03:00.0"
    )
    fake_root.nic("wwan0", "", driver="qmi_wwan", pci="0000:00:14.0")
    fake_root.nic("eth9", "00:00:00:00:00:00", pci="0000:05:00.0")
    nics = net.collect([])
    assert net.mac_list(nics).facts == ["enp0s31f6:00:e0:4c:92:f7:a4", "wlo1:08:bf:b8:c0:c5:83"]
    assert nics[0] == net.Nic(
        "enp0s31f6", "00:e0:4c:92:f7:a4", "e1000e", speed_mbps=None, operstate="down", carrier=False
    )
    assert (nics[1].driver, nics[1].speed_mbps, nics[1].carrier) == ("iwlwifi", None, True)


def test_without_sysfs_ip_json_decides_by_heuristics(fake_root):
    fake_root.fixture(["ip", "-j", "-d", "link"], "iplink/qemu-e1000-bond-vlan-bridge-j-d.json")
    failures: list[Failure] = []
    assert net.mac_list(net.collect(failures)).facts == QEMU_MACS
    assert [(f.collector, f.stage) for f in failures] == [("net", "read")]
    assert failures[0].message.startswith("/sys/class/net: ")


def test_busybox_ip_without_json_falls_back_to_plain_ip_link(fake_root):
    fake_root.fixture(["ip", "link"], "iplink/phoenixnap-bond-vlan-permaddr.txt")
    assert net.mac_list(net.collect([])).facts == EXPECTED["phoenixnap-bond-vlan-permaddr.txt"]


def test_without_sysfs_and_ip_nothing_is_found_and_both_are_recorded(fake_root):
    failures: list[Failure] = []
    assert net.collect(failures) == []
    assert [f.stage for f in failures] == ["read", "read"]


def drvinfo(driver: str, version: str, firmware: str, bus: str) -> bytes:
    """A struct ethtool_drvinfo as the kernel fills it (cmd, then NUL-padded strings)."""
    fields = [value.encode().ljust(32, b"\0") for value in (driver, version, firmware, bus, "")]
    return (3).to_bytes(4, "little") + b"".join(fields) + bytes(12 + 20)


def test_driver_info_captured_from_a_qemu_virtio_nic():
    raw = (FIXTURES / "ethtool/virtio_net-qemu.drvinfo").read_bytes()
    assert net.parse_drvinfo(raw).facts == net.DrvInfo("virtio_net", "1.0.0", None, "0000:00:03.0")


def test_a_nic_gets_its_firmware_version_and_pci_address_from_the_driver(fake_root):
    fake_root.nic("enp86s0", "1c:69:7a:0a:1b:2c", driver="igc", pci="0000:56:00.0")
    fake_root.file("/ethtool/enp86s0.drvinfo", drvinfo("igc", "6.1.0", "1057:8754", "0000:56:00.0"))
    fake_root.nic("wlo1", "08:bf:b8:c0:c5:83", driver="iwlwifi", pci="0000:00:14.3")
    failures: list[Failure] = []
    nics = net.collect(failures)
    assert [(n.name, n.firmware_version, n.pci_address) for n in nics] == [
        ("enp86s0", "1057:8754", "0000:56:00.0"),
        ("wlo1", None, None),  # not captured: nothing claimed, nothing to report
    ]


def test_driver_info_that_is_short_or_not_pci_is_left_out():
    assert net.parse_drvinfo(b"\x03\x00\x00\x00igc").warnings == [
        "ethtool driver info is 7 bytes, too short"
    ]
    usb = net.parse_drvinfo(
        drvinfo("cdc_ether", "6.1.0", "CDC Ethernet Device", "usb-0000:00:14.0-3")
    )
    assert (usb.facts.firmware_version, usb.facts.bus_info) == (
        "CDC Ethernet Device",
        "usb-0000:00:14.0-3",
    )
    assert net.parse_drvinfo(drvinfo("e1000", "7.3.21", "N/A", "")).facts.firmware_version is None
