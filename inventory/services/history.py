"""Snapshots of a device's facts and the differences between two of them."""

from __future__ import annotations

from typing import Any

from inventory.models import Device, DeviceHistory

TRACKED = (
    "name",
    "serial_number",
    "sn_source",
    "hardware_generated_sn",
    "spec",
    "reported_spec",
    "organization",
    "has_modem",
    "imei",
    "macs",
    "inventory_status",
    "imaging_status",
)


def device_snapshot(device: Device, macs: list[str] | None = None) -> dict[str, Any]:
    if macs is None:
        macs = sorted(str(m) for m in device.macs.all()) if device.pk else []
    return {
        "name": device.name,
        "serial_number": device.serial_number,
        "sn_source": device.sn_source,
        "hardware_generated_sn": device.hardware_generated_sn,
        "spec": device.spec.name if device.spec_id else None,
        "reported_spec": device.reported_spec,
        "organization": device.organization.name if device.organization_id else None,
        "has_modem": device.has_modem,
        "imei": device.imei,
        "macs": sorted(macs),
        "inventory_status": device.inventory_status,
        "imaging_status": device.imaging_status,
    }


def snapshot_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in TRACKED if before.get(k) != after.get(k)}


def history_add(*, device: Device, kind: str, changes=None, note="", submission=None, actor=None):
    return DeviceHistory.objects.create(
        device=device,
        kind=kind,
        changes=changes or {},
        note=note,
        submission=submission,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
