"""The real boot chain in a network lab (tests/e2e/netlab.py): real DHCP, proxy DHCP and TFTP.

A site DHCP server hands out addresses only; the product's dnsmasq runs exactly as
`render_dnsmasq --prepare-tftp` writes it; the real application answers on the bridge address;
QEMU boots on a tap with SeaBIOS + Debian's iPXE ROM, or OVMF with its own PXE stack. Each
scenario boots the real inventory image and waits for the accepted submission; the first boot
of the main scenarios is followed by a second one, which must be chained to the imaging target.
Each prints its time from QEMU start to the accepted submission (docs/pxe.md lists them).
"""

from __future__ import annotations

import json
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from inventory.models import BootEvent, Device, DeviceRequest
from inventory.services.catalog import request_save
from tests.e2e.boot_checks import accepted_for, journal_text
from tests.e2e.conftest import ROOT
from tests.e2e.imaging_urls import MARKER
from tests.e2e.netlab import BRIDGE_IP, PRODUCT_RANGE, SUBNET, NetLab, run
from tests.e2e.qemu import Nic, QemuGuest, Smbios

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAC_A = "00:e0:4c:92:f7:a4"  # the demo request's target
MAC_DEAD = "52:54:00:d0:00:01"  # a first NIC on a segment with no servers
MAC_UNKNOWN = "52:54:00:c0:00:02"
NUC = Smbios(manufacturer="Intel Corporation", product="NUC11TNHi5", serial="ABC123XYZ")
# Generous: QEMU under TCG on 2 shared cores; the figures printed are what count.
BOOT_WAIT_S = 300.0
REBOOT_WAIT_S = 90.0
# OVMF's own switches (fw_cfg), as an operator sets them in a machine's firmware setup.
IPV6_PXE_OFF = ["-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"]


@pytest.fixture
def lab(tmp_path, settings, inventory_image, demo):
    """A lab with the backend listening on the bridge address; no DHCP server yet."""
    settings.ROOT_URLCONF = "tests.e2e.imaging_urls"
    settings.ARROW_IMAGE_DIR = inventory_image
    settings.ARROW_KERNEL_ARGS = "console=ttyS0,115200"
    settings.ARROW_IMAGING_URL = f"http://{BRIDGE_IP}:8000/test-imaging/{{device_id}}.ipxe"
    with NetLab(tmp_path / "lab") as network:
        network.backend.start()
        yield network
    assert network.leftovers() == []


def render(lab: NetLab, *options: str) -> Path:
    """The product's dnsmasq configuration, written by its own command."""
    conf = lab.workdir / "arrow-dnsmasq.conf"
    call_command(
        "render_dnsmasq", "--interface", "br0", "--server", lab.backend.url,
        "--tftp-root", str(lab.tftp_root), "--prepare-tftp", "-o", str(conf), *options,
        stderr=StringIO(),
    )  # fmt: skip
    return conf


def proxy_mode(lab: NetLab) -> None:
    lab.start_site_dhcp()
    lab.start_product_dnsmasq(render(lab, "--subnet", SUBNET))


def dhcp_mode(lab: NetLab, *options: str) -> None:
    first, last = PRODUCT_RANGE
    conf = render(lab, "--mode", "dhcp", "--range", f"{first},{last}", *options)
    lab.start_product_dnsmasq(conf)


def boot_nic(lab: NetLab, firmware: str, mac: str = MAC_A, **options) -> Nic:
    """The NIC on the lab segment: BIOS with Debian's iPXE ROM, UEFI with OVMF's own PXE."""
    return Nic("virtio-net-pci", mac, tap=lab.tap(), rom=firmware == "bios", **options)


def public_image(lab: NetLab, image: Path) -> Path:
    """The image copied where dnsmasq's unprivileged user may read it: TFTP serves it from
    there (the checkout may be private, e.g. under /root)."""
    for name in ("vmlinuz", "initrd.img"):
        shutil.copyfile(image / name, lab.image_dir / name)
        (lab.image_dir / name).chmod(0o644)
    return lab.image_dir


def machine(lab: NetLab, tmp_path: Path, name: str, firmware: str, nics, extra=()) -> QemuGuest:
    return QemuGuest(
        workdir=tmp_path / name, nics=nics, smbios=NUC, netns=lab.ns, firmware=firmware,
        memory_mb=1024, extra_args=extra,
    )  # fmt: skip


def inventoried(vm: QemuGuest, lab: NetLab, mac: str, scenario: str, wait: float = BOOT_WAIT_S):
    """Waits for the accepted submission of *mac*, prints the time, waits for the reboot."""
    accepted = accepted_for(mac)

    def check():
        if "No bootable device" in vm.console():  # the firmware gave up: no need to wait
            pytest.fail(f"the machine fell through to the next device\n{lab.logs()}\n"
                        f"{vm.console_tail()}")  # fmt: skip
        return accepted()

    entry = vm.wait_for(
        check, timeout=wait, what=f"an accepted submission for {mac}",
        context=lambda: f"{journal_text()}\n{lab.logs()}",
    )  # fmt: skip
    took = vm.elapsed()
    print(f"\nlab {scenario}: QEMU start -> accepted submission {took:.1f} s")
    vm.wait_for_exit(timeout=REBOOT_WAIT_S, what="the agent's reboot after submitting")
    return entry


def assert_inventoried(entry, macs: set[str]) -> Device:
    device = Device.objects.get(pk=entry.device_id)
    assert entry.credential == "boot_token"
    assert device.serial_number == "ABC123XYZ"
    assert device.spec.name == "Intel NUC 11 Pro"
    assert {m.mac for m in device.macs.all()} == macs
    assert device.imaging_status == "ready_for_imaging"
    assert DeviceRequest.objects.get().status == "inventoried"
    return device


def reported_secure_boot(entry):
    """The submission's ``hardware.secure_boot``, as the agent sent it: True, False, or None
    for a machine without UEFI."""
    return json.loads(bytes(entry.body))["inventory_data"]["hardware"]["secure_boot"]


def goes_to_imaging(lab: NetLab, tmp_path: Path, firmware: str, nics, device: Device) -> None:
    with machine(lab, tmp_path, "second-boot", firmware, nics) as vm:
        vm.wait_for(
            lambda: MARKER in vm.console(), timeout=BOOT_WAIT_S, what="the imaging target",
            context=lab.logs,
        )  # fmt: skip
    device.refresh_from_db()
    assert device.imaging_status == "imaging"


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_proxy_dhcp_inventories_then_images(lab, tmp_path, firmware):
    """Beside a site DHCP server: SeaBIOS + iPXE ROM, or OVMF PXE -> snponly.efi -> iPXE."""
    proxy_mode(lab)
    nics = [boot_nic(lab, firmware)]
    with machine(lab, tmp_path, "first-boot", firmware, nics) as vm:
        entry = inventoried(vm, lab, MAC_A, f"proxy DHCP, {firmware}")
    device = assert_inventoried(entry, {MAC_A})
    assert reported_secure_boot(entry) is {"bios": None, "uefi": False}[firmware]
    goes_to_imaging(lab, tmp_path, firmware, nics, device)


def documented_radvd_conf() -> str:
    """docs/pxe.md's radvd.conf for a segment without IPv6, on the site's interface."""
    text = (ROOT / "docs" / "pxe.md").read_text()
    block = re.search(r"```radvd\n(.*?)```", text, re.S).group(1)
    assert "interface eth1 {" in block, "docs/pxe.md's radvd block no longer names eth1"
    return block.replace("interface eth1 {", "interface eth0 {")


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_proxy_dhcp_with_an_advertisement_that_announces_nothing(lab, tmp_path, firmware):
    """The documented radvd.conf on the site's side ends iPXE's IPv6 wait; the guest still gets
    no IPv6 address beyond its link-local one and no route."""
    lab.capture("ndp", "icmp6 and (ip6[40] == 133 or ip6[40] == 134)")  # solicit, advertise
    lab.start_site_router_advertisements(documented_radvd_conf())
    proxy_mode(lab)
    nics = [boot_nic(lab, firmware)]
    with machine(lab, tmp_path, "ra", firmware, nics) as vm:
        entry = inventoried(vm, lab, MAC_A, f"proxy DHCP, {firmware}, RA without prefix")
        console = vm.console()
    assert_inventoried(entry, {MAC_A})
    # The machine asked for a router and the site's radvd answered it on the segment.
    ndp = lab.log("ndp").read_text().splitlines()
    asked = next(i for i, line in enumerate(ndp) if MAC_A in line and "router solicitation" in line)
    answers = [line for line in ndp[asked:] if f"> {MAC_A}," in line and "advertisement" in line]
    assert answers, lab.logs("ndp")
    ipxe_addresses = re.findall(r"net\d: ([0-9a-f:]+)/64", console)
    assert ipxe_addresses, console[-2000:]
    assert all(a.startswith("fe80:") for a in ipxe_addresses), ipxe_addresses


def test_the_switch_port_is_reported_from_lldp(lab, tmp_path):
    """lldpd speaks on the guest's switch port: the accepted submission names the switch, its
    chassis and the port; listening stopped once the port had answered."""
    proxy_mode(lab)
    tap = lab.tap()
    lab.start_switch_lldp(tap, "sw-rack7", "Gi1/0/7 rack 7")
    nics = [Nic("virtio-net-pci", MAC_A, tap=tap, rom=True)]
    with machine(lab, tmp_path, "lldp", "bios", nics) as vm:
        entry = inventoried(vm, lab, MAC_A, "proxy DHCP, bios, LLDP neighbour")
    device = assert_inventoried(entry, {MAC_A})
    [neighbour] = device.hardware["lldp"]
    assert neighbour["system_name"] == "sw-rack7"
    assert neighbour["port_description"] == "Gi1/0/7 rack 7"
    assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", neighbour["chassis_id"])  # a MAC
    assert neighbour["port_id"] == tap  # the interface name subtype
    assert "lldp" not in {e["collector"] for e in device.hardware["collection_errors"]}


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_two_nics_boot_from_the_second(lab, tmp_path, firmware):
    """The first NIC sits on a dead segment; the second boots, and its MAC reaches the
    backend (${netX/mac}), not the first NIC's."""
    proxy_mode(lab)
    dead = Nic("virtio-net-pci", MAC_DEAD, tap=lab.tap("br1"), rom=firmware == "bios",
               bootindex=1)  # fmt: skip
    nics = [dead, boot_nic(lab, firmware, bootindex=2)]
    # OVMF tries PXEv4, PXEv6, HTTPv4 and HTTPv6 on the dead NIC, each to its timeout; with
    # IPv6 PXE off (as on an IPv4 provisioning network) that is still about two minutes.
    extra = IPV6_PXE_OFF if firmware == "uefi" else []
    with machine(lab, tmp_path, "two-nics", firmware, nics, extra) as vm:
        entry = inventoried(vm, lab, MAC_A, f"two NICs, second boots, {firmware}", 2 * BOOT_WAIT_S)
    assert_inventoried(entry, {MAC_A, MAC_DEAD})
    assert set(BootEvent.objects.values_list("mac", flat=True)) == {MAC_A}


@pytest.mark.parametrize("fast", [False, True], ids=["defaults", "--ipv6-ra --no-ping"])
def test_full_dhcp_mode_alone(lab, tmp_path, fast):
    """The product's dnsmasq as the only DHCP server of the segment (BIOS). Its offers to iPXE
    say that no ProxyDHCP offer will come (iPXE would wait 2 s for one). With --ipv6-ra it
    also sends router advertisements, which spares iPXE its IPv6 autoconfiguration wait, and
    with --no-ping it offers at once instead of pinging the address for 3 s first."""
    if fast:
        lab.add_ipv6_prefix()
    lab.capture("dhcp", "udp port 67 or udp port 68", decode=True)
    dhcp_mode(lab, *(["--ipv6-ra", "--no-ping"] if fast else []))
    nics = [boot_nic(lab, "bios")]
    name = f"full DHCP, bios, {'--ipv6-ra --no-ping' if fast else 'defaults'}"
    with machine(lab, tmp_path, "full-dhcp", "bios", nics) as vm:
        entry = inventoried(vm, lab, MAC_A, name)
    assert_inventoried(entry, {MAC_A})
    log = lab.log("arrow-dnsmasq").read_text()
    assert "DHCPACK" in log
    assert ("router advertisement" in log.lower()) == fast, lab.logs("arrow-dnsmasq")
    # iPXE's own exchange (its requests carry option 175), not the image's udhcpc.
    packets = dhcp_packets(lab.log("dhcp").read_text())
    ipxe = {xid(p) for p in packets if "length 1: Discover" in p and "Unknown (175)" in p}
    exchange = [p for p in packets if xid(p) in ipxe]
    offers = [p for p in exchange if "DHCP-Message (53), length 1: Offer" in p]
    assert offers, packets
    # Option 175 holding 176 = 1 (iPXE's no-pxedhcp) and the end mark: b0 01 01 ff.
    assert all("Unknown (175), length 4: 2952856063" in p for p in offers), offers
    if fast:
        discovers = [i for i, p in enumerate(exchange) if "length 1: Discover" in p]
        # Without the ping the first discover is answered before iPXE has to send another.
        assert len(discovers) == 1 or exchange.index(offers[0]) < discovers[1], exchange


def xid(packet: str) -> str | None:
    found = re.search(r"xid (0x[0-9a-f]+)", packet)
    return found.group(1) if found else None


def dhcp_packets(capture: str) -> list[str]:
    """tcpdump -vvv output split into one text block per packet."""
    return [block for block in re.split(r"\n(?=\d\d:\d\d:\d\d\.)", capture) if block.strip()]


def test_backend_briefly_unreachable(lab, tmp_path):
    """The backend is down when the machine asks: the stage script says so, waits longer each
    time, and boots the image once the backend is back."""
    proxy_mode(lab)
    lab.backend.stop()
    first_retry = "reaching the boot service failed (try 1 of 6)"
    with machine(lab, tmp_path, "outage", "bios", [boot_nic(lab, "bios")]) as vm:
        vm.wait_for(
            lambda: first_retry in vm.console(), timeout=BOOT_WAIT_S,
            what="the stage script's first retry", context=lab.logs,
        )  # fmt: skip
        lab.backend.start()
        entry = inventoried(vm, lab, MAC_A, "backend unreachable at first, bios")
        console = vm.console()
    assert_inventoried(entry, {MAC_A})
    assert "next try in 2 s" in console


def test_unknown_mac_boots_the_next_device(lab, tmp_path):
    """Nobody asked for this machine: it is told so and falls through to the next device."""
    proxy_mode(lab)
    nics = [boot_nic(lab, "bios", mac=MAC_UNKNOWN)]
    with machine(lab, tmp_path, "unknown", "bios", nics) as vm:
        vm.wait_for(
            lambda: "No bootable device" in vm.console(), timeout=BOOT_WAIT_S,
            what="the fall-through to the next boot device", context=lab.logs,
        )  # fmt: skip
        assert "unknown MAC" in vm.console()
    event = BootEvent.objects.get(mac=MAC_UNKNOWN)
    assert event.action == "local"
    assert Device.objects.count() == 0


HTTP_BOOT_ONLY = ["-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n", *IPV6_PXE_OFF]


def test_uefi_http_boot(lab, tmp_path):
    """OVMF's HTTP Boot (vendor class HTTPClient, architecture 16) is answered with the URL of
    iPXE's EFI build on the backend; iPXE then takes the usual path."""
    proxy_mode(lab)
    vm = QemuGuest(
        workdir=tmp_path / "http-boot", nics=[boot_nic(lab, "uefi")], smbios=NUC,
        netns=lab.ns, firmware="uefi", memory_mb=1024, extra_args=HTTP_BOOT_ONLY,
    )  # fmt: skip
    with vm:
        entry = inventoried(vm, lab, MAC_A, "UEFI HTTP Boot")
    assert_inventoried(entry, {MAC_A})
    log = lab.log("arrow-dnsmasq").read_text()
    sent = [line for line in log.splitlines() if " sent " in line]
    assert any("arrow.ipxe" in line for line in sent), log
    assert not any("snponly.efi" in line for line in sent), log  # HTTP, not TFTP


@pytest.mark.parametrize("firmware", ["secboot", "uefi"])
def test_secure_boot_chain_inventories(lab, tmp_path, settings, inventory_image, firmware):
    """Full DHCP, OVMF with Secure Boot and Microsoft's keys: Debian's signed shim -> signed
    network GRUB -> the image's signed Debian kernel, all over TFTP; GRUB finds the MAC's config
    the backend wrote (with the per-boot token) and the agent's submission is accepted. The same
    chain boots UEFI machines with Secure Boot off, so one --secure-boot network serves both."""
    grub_dir = lab.tftp_root / "grub"
    settings.ARROW_PUBLIC_URL = lab.backend.url
    settings.ARROW_GRUB_DIR = str(grub_dir)
    # Full DHCP: GRUB asks the server of the DHCP answer (its next-server) for every file; in
    # proxy mode that is the site's server (docs/pxe.md).
    dhcp_mode(lab, "--secure-boot", "--image-dir", str(public_image(lab, inventory_image)))
    call_command("arrow_boot_files", stdout=StringIO())  # the demo request predates the dir
    assert "arrow.token=" in (grub_dir / f"mac-{MAC_A}.cfg").read_text()
    with machine(lab, tmp_path, "secure-boot-chain", firmware, [boot_nic(lab, "uefi")]) as vm:
        entry = inventoried(vm, lab, MAC_A, f"{firmware}, shim -> GRUB -> kernel over TFTP")
    assert_inventoried(entry, {MAC_A})
    assert reported_secure_boot(entry) is (firmware == "secboot"), "the SecureBoot variable"
    # GRUB fetches over TFTP only: the backend's timeline starts with the agent's own call.
    steps = list(
        BootEvent.objects.filter(mac=MAC_A).order_by("at", "id").values_list("step", flat=True)
    )
    assert steps[:1] == ["agent"], steps
    assert "boot" not in steps, steps
    sent = [line for line in lab.log("arrow-dnsmasq").read_text().splitlines() if " sent " in line]
    for name in ("shimx64.efi", "grubx64.efi", f"mac-{MAC_A}.cfg", "vmlinuz", "initrd.img"):
        assert any(name in line for line in sent), (name, sent)
    assert not any("snponly.efi" in line for line in sent), sent
    # Inventoried and ready for imaging: no GRUB config any more, the machine boots on.
    assert not (grub_dir / f"mac-{MAC_A}.cfg").exists()


def test_secure_boot_refuses_the_unsigned_ipxe(lab, tmp_path):
    """Without --secure-boot, OVMF with Secure Boot and Microsoft's keys downloads Debian's
    unsigned snponly.efi and refuses it (docs/pxe.md: render with --secure-boot)."""
    proxy_mode(lab)
    nics = [boot_nic(lab, "uefi")]
    with machine(lab, tmp_path, "secure-boot", "secboot", nics) as vm:
        vm.wait_for(
            lambda: "Access Denied" in vm.console(), timeout=BOOT_WAIT_S,
            what="the firmware's refusal of an unsigned binary", context=lab.logs,
        )  # fmt: skip
    log = lab.log("arrow-dnsmasq").read_text()
    assert any(" sent " in line and "snponly.efi" in line for line in log.splitlines()), log
    assert not BootEvent.objects.exists()  # iPXE never ran, so it never asked the backend


def sent_files(lab: NetLab, name: str) -> int:
    log = lab.log("arrow-dnsmasq").read_text()
    return sum(" sent " in line and name in line for line in log.splitlines())


def test_pxe_filter_answers_only_wanted_macs(lab, tmp_path, settings):
    """With --pxe-filter the proxy stays silent for a MAC nobody wants (its firmware never
    loads iPXE); a request for that MAC makes it wanted at once, without restarting dnsmasq."""
    hosts = lab.hosts_dir  # dnsmasq reads it as an unprivileged user
    settings.ARROW_DHCP_HOSTS_DIR = str(hosts)
    lab.start_site_dhcp()
    lab.start_product_dnsmasq(render(lab, "--subnet", SUBNET, "--pxe-filter", str(hosts)))
    call_command("arrow_boot_files", stdout=StringIO())
    assert not (hosts / MAC_UNKNOWN.replace(":", "-")).exists()
    nics = [boot_nic(lab, "uefi", mac=MAC_UNKNOWN)]
    with machine(lab, tmp_path, "unwanted", "uefi", nics, IPV6_PXE_OFF) as vm:
        # OVMF's PXEv4 gets an address from the site but no boot offer, gives up, moves on.
        vm.wait_for(
            lambda: vm.console().count(">>Start") >= 2 or "PXE-E" in vm.console(),
            timeout=BOOT_WAIT_S, what="the firmware giving up on PXE", context=lab.logs,
        )  # fmt: skip
    assert sent_files(lab, "snponly.efi") == 0, lab.logs("arrow-dnsmasq")
    assert MAC_UNKNOWN in lab.log("site-dhcp").read_text()  # it did ask the segment
    assert not BootEvent.objects.filter(mac=MAC_UNKNOWN).exists()
    request_save(organization="Demo Org", target_macs=[MAC_UNKNOWN])  # a file, no restart
    assert (hosts / MAC_UNKNOWN.replace(":", "-")).read_text() == f"{MAC_UNKNOWN}\n"
    with machine(lab, tmp_path, "wanted", "uefi", [boot_nic(lab, "uefi", mac=MAC_UNKNOWN)]) as vm:
        entry = inventoried(vm, lab, MAC_UNKNOWN, "PXE filter, wanted after a request, uefi")
    assert Device.objects.get(pk=entry.device_id).serial_number == "ABC123XYZ"
    assert sent_files(lab, "snponly.efi") >= 1


def test_dnsmasq_answers_on_an_interface_that_appears_after_it_started(lab, tmp_path):
    """bind-dynamic: the provisioning interface (br2) does not exist when dnsmasq starts; once
    it is created and given the address, dnsmasq answers without a restart (full DHCP, BIOS)."""
    run("ip", "-n", lab.ns, "addr", "del", f"{BRIDGE_IP}/24", "dev", "br0")  # moves to br2
    dhcp_mode(lab, "--interface", "br2")
    run("ip", "-n", lab.ns, "link", "add", "br2", "type", "bridge",
        "stp_state", "0", "forward_delay", "0")  # fmt: skip
    run("ip", "-n", lab.ns, "link", "set", "br2", "up")
    run("ip", "-n", lab.ns, "addr", "add", f"{BRIDGE_IP}/24", "dev", "br2")
    nics = [Nic("virtio-net-pci", MAC_A, tap=lab.tap("br2"))]
    with machine(lab, tmp_path, "late-interface", "bios", nics) as vm:
        entry = inventoried(vm, lab, MAC_A, "full DHCP, interface created after dnsmasq")
    assert_inventoried(entry, {MAC_A})
    assert "DHCPACK(br2)" in lab.log("arrow-dnsmasq").read_text()
