"""Names of PCI vendors and devices, from the PCI ID Repository's list (Debian package pci.ids).

The agent sends ids only (docs/decisions.md); the portal names them when it shows a device, from
the server's list, so a newer list names old inventories too. The list is read once per process,
on first use. Without the file, devices are shown by their ids.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from django.conf import settings

_VENDOR = re.compile(r"([0-9a-f]{4})  (.+)")
_DEVICE = re.compile(r"\t([0-9a-f]{4})  (.+)")


def parse(lines) -> dict[tuple[str, str | None], str]:
    """{(vendor, None): vendor name, (vendor, device): device name} of pci.ids text lines.
    Subsystem lines (two tabs) are skipped; the device classes at the end ("C ...") stop it."""
    names: dict[tuple[str, str | None], str] = {}
    vendor = None
    for line in lines:
        if line.startswith("C "):
            break
        if match := _VENDOR.fullmatch(line.rstrip("\n")):
            vendor = match.group(1)
            names[(vendor, None)] = match.group(2)
        elif vendor and (match := _DEVICE.fullmatch(line.rstrip("\n"))):
            names[(vendor, match.group(1))] = match.group(2)
    return names


@functools.cache
def _names(path: str) -> dict[tuple[str, str | None], str]:
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as lines:
            return parse(lines)
    except OSError:
        return {}


def name(vendor_id: str | None, product_id: str | None) -> tuple[str | None, str | None]:
    """(vendor name, device name) for ids as the agent sends them ("8086", "0x8086"); None
    where the list does not know one."""
    names = _names(settings.ARROW_PCI_IDS)
    vendor = str(vendor_id or "").lower().removeprefix("0x")
    product = str(product_id or "").lower().removeprefix("0x")
    return names.get((vendor, None)), names.get((vendor, product))


def named(devices):
    """The hardware object's pci_devices with "vendor" and "device" names added after the ids."""
    if not isinstance(devices, list):
        return devices
    rows = []
    for device in devices:
        if not isinstance(device, dict):
            return devices
        vendor, product = name(device.get("vendor_id"), device.get("product_id"))
        rows.append({"bus": device.get("bus"), "vendor": vendor, "device": product, **device})
    return rows
