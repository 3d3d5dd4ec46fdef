"""Merge: what a device's facts become when a submission describes it. Pure, no database.

In: the device's current facts (``device_facts``), the fields an operator locked, the validated
submission and the spec its reported name matches. Out: the new facts, what changed
(``{field: [before, after]}``, hardware as readable lines) and notes for the history. The caller
(inventory/services/submission.py) finds the device before and writes the result after.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from arrow_agent.serials import clean_serial, is_placeholder_serial
from inventory.services.hardware import hardware_changes
from inventory.services.history import TRACKED
from inventory.services.macs import ReportedMac

# The facts a submission reports, in the order the history lists them: the tracked fields
# (one list, history.TRACKED) less those a person or the imaging chain sets.
FACTS = tuple(f for f in TRACKED if f not in ("organization", "inventory_status", "imaging_status"))
# The facts of a device nothing has described yet (the model's defaults).
NEW_DEVICE: dict[str, Any] = {
    "name": "",
    "serial_number": None,
    "sn_source": None,
    "hardware_generated_sn": False,
    "spec": None,
    "reported_spec": "",
    "has_modem": False,
    "imei": None,
    "macs": [],
    "hardware": {},
}


@dataclass
class InventoryData:
    """A submission's ``inventory_data`` once its schema (inventory/schemas.py) accepted it: MACs
    canonical, texts stripped (blank is None), *warnings* about facts accepted with a doubt."""

    macs: list[ReportedMac]
    device_name: str | None = None
    serial_number: str | None = None
    device_spec: str | None = None
    has_modem: bool = False
    imei: str | None = None
    hardware_generated_sn: bool | None = None
    sn_source: str | None = None
    hardware: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Merged:
    facts: dict[str, Any]
    changes: dict[str, list[Any]]
    notes: list[str]


def reported_macs(data: InventoryData) -> list[str]:
    """The submission's MACs as the history lists them: ``iface:mac`` (or the bare MAC), sorted."""
    return sorted(f"{m.interface}:{m.mac}" if m.interface else m.mac for m in data.macs)


def _serial(current: dict[str, Any], data: InventoryData, notes: list[str]) -> dict[str, Any]:
    serial = clean_serial(data.serial_number)
    if serial:
        generated = data.hardware_generated_sn if data.hardware_generated_sn is not None else True
        return {
            "serial_number": serial,
            "sn_source": data.sn_source,
            "hardware_generated_sn": generated,
        }
    reported = data.serial_number
    if current["serial_number"]:
        # A known good serial is never overwritten by an empty or placeholder one.
        what = f"placeholder serial {reported!r}" if reported else "no serial"
        notes.append(f"kept serial {current['serial_number']!r}: the submission reported {what}")
        return {}
    if reported and is_placeholder_serial(reported):
        notes.append(f"ignored placeholder serial {reported!r}")
    return {"serial_number": None, "sn_source": None, "hardware_generated_sn": False}


def merge(
    current: dict[str, Any],
    locked: Collection[str],
    data: InventoryData,
    *,
    matched_spec: str | None,
) -> Merged:
    """The device's facts after *data*; *current* is ``NEW_DEVICE`` for a device not yet known.
    A locked field keeps its value; a missing ``hardware`` object keeps the facts known."""
    notes: list[str] = []
    facts = dict(current)
    if data.device_name and "name" not in locked:
        facts["name"] = data.device_name
    facts.update(_serial(current, data, notes))
    facts["reported_spec"] = data.device_spec or ""
    if "spec" not in locked:
        facts["spec"] = matched_spec
    facts["has_modem"] = bool(data.has_modem)
    facts["imei"] = data.imei
    facts["macs"] = reported_macs(data)
    if data.hardware:
        facts["hardware"] = data.hardware
    changes = {k: [current[k], facts[k]] for k in FACTS if current[k] != facts[k]}
    changes.update(hardware_changes(current["hardware"] or {}, facts["hardware"] or {}))
    return Merged(facts=facts, changes=changes, notes=notes)
