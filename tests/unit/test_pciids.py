"""PCI names from the PCI ID list, as the portal shows an inventory's pci_devices."""

from __future__ import annotations

import pytest

from inventory.services import pciids
from tests.fakeroot import FIXTURES

EXCERPT = FIXTURES / "pciids" / "pci.ids.excerpt"


@pytest.fixture
def excerpt(settings):
    settings.ARROW_PCI_IDS = str(EXCERPT)
    yield
    pciids._names.cache_clear()


@pytest.mark.parametrize(
    ("vendor", "device", "names"),
    [
        ("8086", "10d3", ("Intel Corporation", "82574L Gigabit Network Connection")),
        ("0x8086", "0x10D3", ("Intel Corporation", "82574L Gigabit Network Connection")),
        ("1af4", "1041", ("Red Hat, Inc.", "Virtio 1.0 network device")),
        ("1af4", "ffff", ("Red Hat, Inc.", None)),  # a device newer than the list
        ("abcd", "0001", (None, None)),
        (None, None, (None, None)),
    ],
)
def test_ids_are_named_from_the_list(excerpt, vendor, device, names):
    assert pciids.name(vendor, device) == names


def test_subsystem_lines_and_device_classes_are_not_taken_for_devices(excerpt):
    table = pciids._names(str(EXCERPT))
    assert ("8086", "1000") in table  # a device line
    assert all(
        len(vendor) == 4 and (device is None or len(device) == 4) for vendor, device in table
    )
    assert ("00", None) not in table  # "C 00  Unclassified device" ends the vendors


def test_without_the_list_devices_keep_their_ids(settings):
    settings.ARROW_PCI_IDS = "/nonexistent/pci.ids"
    try:
        rows = pciids.named([{"bus": "0000:00:03.0", "vendor_id": "8086", "product_id": "10d3"}])
    finally:
        pciids._names.cache_clear()
    assert rows == [
        {
            "bus": "0000:00:03.0",
            "vendor": None,
            "device": None,
            "vendor_id": "8086",
            "product_id": "10d3",
        }
    ]
