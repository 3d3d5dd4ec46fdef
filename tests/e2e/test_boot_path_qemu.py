"""The documented flow, end to end: real iPXE in QEMU against the real backend.

A device request targets a VM's MAC; the VM network-boots through Debian's iPXE ROM, asks the
boot endpoint, boots the inventory image, and its agent submits with a per-boot token. On its
next boot it is chained to the imaging target. A quick-added VM with a placeholder system serial
is inventoried with its chassis serial; a VM nobody registered goes to local boot.
"""

from __future__ import annotations

import pytest

from inventory.models import BootEvent, Device, DeviceRequest
from inventory.services.devices import device_quick_add
from tests.e2e.boot_checks import accepted_for, journal_text
from tests.e2e.imaging_urls import MARKER
from tests.e2e.qemu import Nic, QemuGuest, Smbios

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAC_A = "00:e0:4c:92:f7:a4"  # the demo request's target
MAC_A2 = "00:e0:4c:92:f7:a5"
MAC_B = "52:54:00:b0:00:01"
MAC_UNKNOWN = "52:54:00:c0:00:01"
BOOTFILE = "http://10.0.2.100/pxe/boot.ipxe?mac=${netX/mac}"
BOOT_WAIT_S = 150.0


@pytest.fixture
def backend(live_server, settings, inventory_image, demo):
    """The real application on live_server, serving the built image and a stand-in imaging
    target; devices reach it as http://10.0.2.100 through QEMU's guestfwd."""
    settings.ROOT_URLCONF = "tests.e2e.imaging_urls"
    settings.ARROW_IMAGE_DIR = inventory_image
    settings.ARROW_IMAGING_URL = "http://10.0.2.100/test-imaging/{device_id}.ipxe"
    settings.ARROW_KERNEL_ARGS = "console=ttyS0,115200"
    return live_server


def port_of(live_server) -> int:
    return int(live_server.url.rsplit(":", 1)[1])


def guest(tmp_path, name: str, backend, nics, smbios: Smbios) -> QemuGuest:
    return QemuGuest(
        workdir=tmp_path / name,
        nics=nics,
        forward_port=port_of(backend),
        bootfile=BOOTFILE,
        smbios=smbios,
    )


def test_boot_path_inventory_imaging_quick_add_and_unknown(backend, tmp_path):
    nuc = Smbios(manufacturer="Intel Corporation", product="NUC11TNHi5", serial="ABC123XYZ")
    nics = [Nic("virtio-net-pci", MAC_A), Nic("e1000", MAC_A2, net="10.0.3.0/24", rom=False)]

    # 1. A pending request targets MAC A: the VM is inventoried through the whole chain.
    with guest(tmp_path, "vm-a-first", backend, nics, nuc) as vm:
        entry = vm.wait_for(accepted_for(MAC_A), timeout=BOOT_WAIT_S, what="an accepted "
                            "submission for MAC A", context=journal_text)  # fmt: skip
        took = vm.elapsed()
        vm.wait_for_exit(timeout=60, what="the agent's reboot after submitting")
    print(f"\nQEMU start -> accepted submission: {took:.1f} s")
    device = Device.objects.get(pk=entry.device_id)
    assert entry.credential == "boot_token"
    assert device.serial_number == "ABC123XYZ"
    assert device.sn_source == "dmidecode"
    assert device.spec.name == "Intel NUC 11 Pro"
    macs = {m.mac: m.interface for m in device.macs.all()}
    assert set(macs) == {MAC_A, MAC_A2}
    assert all(macs.values()), macs
    assert device.organization.name == "Demo Org"
    assert device.inventory_status == "newly_inventoried"
    assert device.imaging_status == "ready_for_imaging"
    assert DeviceRequest.objects.get().status == "inventoried"
    # The boot script reported both downloads on the way (the timeline's first steps).
    steps = set(BootEvent.objects.filter(mac=MAC_A).values_list("step", flat=True))
    assert {"boot", "kernel", "initrd", "submit"} <= steps, steps

    # 2. The VM boots again: it is chained to the imaging target.
    with guest(tmp_path, "vm-a-second", backend, nics, nuc) as vm:
        vm.wait_for_console(MARKER, timeout=BOOT_WAIT_S)
    device.refresh_from_db()
    assert device.imaging_status == "imaging"
    assert DeviceRequest.objects.get().status == "imaging"
    assert Device.objects.count() == 1

    # 3. A quick-added VM whose system serial is a placeholder: the chassis serial is taken.
    quick = device_quick_add(mac_address=MAC_B, organization="Demo Org")
    oem = Smbios(
        manufacturer="To Be Filled By O.E.M.",
        product="To Be Filled By O.E.M.",
        serial="To Be Filled By O.E.M.",
        board_product="B450 Gaming K4",
        board_serial="Default string",
        chassis_serial="CHS-REAL-0042",
    )
    with guest(tmp_path, "vm-b", backend, [Nic("virtio-net-pci", MAC_B)], oem) as vm:
        vm.wait_for(accepted_for(MAC_B), timeout=BOOT_WAIT_S, what="an accepted submission "
                    "for MAC B", context=journal_text)  # fmt: skip
    quick.refresh_from_db()
    assert quick.inventory_status == "updated_via_inventory"
    assert quick.serial_number == "CHS-REAL-0042"
    assert quick.sn_source == "chassis"
    assert quick.flagged_for_inventory is False

    # 4. A VM nobody registered goes to local boot; nothing is created.
    before = Device.objects.count()
    with guest(tmp_path, "vm-unknown", backend, [Nic("virtio-net-pci", MAC_UNKNOWN)], nuc) as vm:
        vm.wait_for_console("unknown MAC", timeout=BOOT_WAIT_S)
    assert Device.objects.count() == before
    event = BootEvent.objects.filter(mac=MAC_UNKNOWN).get()
    assert event.action == "local"
