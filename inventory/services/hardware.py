"""The differences between two `hardware` objects, as lines a person reads in a device's history.

Pure: no database. Each change is ``{label: [before, after]}`` like every other recorded change,
so the portal shows "memory: 16 GiB → 32 GiB" or "disk nvme0n1: S4EWNX0R → S5GXNG0N". Facts with
no rule of their own are still compared, under ``hardware <key>``: every fact is kept and every
change is visible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ADDED = "added"
GONE = "gone"
SHORT = 120  # longest text of one side of a generic change


def _size(value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None if value is None else str(value)
    gib = value / 2**30
    return f"{gib:.0f} GiB" if gib == int(gib) else f"{gib:.1f} GiB"


def _short(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _words(*values: Any) -> str:
    return " ".join(str(v) for v in values if v not in (None, ""))


def _disk(disk: dict) -> str:
    return str(disk.get("serial") or _words(disk.get("model"), _size(disk.get("size_bytes"))))


def _nic(nic: dict) -> str:
    return _words(nic.get("mac"), nic.get("driver"))


def _module(module: dict) -> str:
    size = module.get("size_mb")
    return _words(f"{size} MB" if size else None, module.get("type"), module.get("serial"))


def _pci(device: dict) -> str:
    return _words(device.get("vendor_id"), device.get("product_id"), device.get("driver"))


def _neighbour(entry: dict) -> str:
    return _words(entry.get("system_name"), entry.get("port_id"))


# A list of records: (label, key naming a record, summary of one record).
RECORDS: dict[str, tuple[str, str, Callable[[dict], str]]] = {
    "disks": ("disk", "name", _disk),
    "nics": ("NIC", "name", _nic),
    "memory_modules": ("memory module", "slot", _module),
    "pci_devices": ("PCI device", "bus", _pci),
    "lldp": ("LLDP neighbour of", "interface", _neighbour),
}
# A single value: (label, how it reads).
VALUES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "memory_bytes": ("memory", _size),
    "agent_version": ("agent version", _short),
    "boot_mode": ("boot mode", _short),
    "secure_boot": ("secure boot", _short),
}
DMI_LABELS = {
    "bios_version": "BIOS version",
    "bios_date": "BIOS date",
    "bios_vendor": "BIOS vendor",
}


def _records(items: Any, key: str) -> dict[str, dict] | None:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return None
    return {str(item.get(key)): item for item in items}


def _record_changes(name: str, old: Any, new: Any) -> dict[str, list[Any]]:
    label, key, summary = RECORDS[name]
    before, after = _records(old or [], key), _records(new or [], key)
    if before is None or after is None:
        return {f"hardware {name}": [_short(old), _short(new)]}
    changes: dict[str, list[Any]] = {}
    for ident in sorted(before.keys() | after.keys()):
        was, now = before.get(ident), after.get(ident)
        if was == now:
            continue
        if was is None:
            changes[f"{label} {ident}"] = [None, _words(ADDED, summary(now))]
        elif now is None:
            changes[f"{label} {ident}"] = [summary(was), GONE]
        elif summary(was) != summary(now):
            changes[f"{label} {ident}"] = [summary(was), summary(now)]
        else:
            changes[f"{label} {ident}"] = [_short(was), _short(now)]
    return changes


def _dmi_changes(old: Any, new: Any) -> dict[str, list[Any]]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return {"hardware dmi": [_short(old), _short(new)]}
    return {
        DMI_LABELS.get(key, f"DMI {key}"): [old.get(key), new.get(key)]
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    }


def _errors(value: Any) -> Any:
    if not isinstance(value, list):
        return _short(value)
    return [_words(e.get("collector"), e.get("stage")) if isinstance(e, dict) else e for e in value]


def _one(name: str, old: Any, new: Any) -> dict[str, list[Any]]:
    if name in RECORDS:
        return _record_changes(name, old, new)
    if name == "dmi":
        return _dmi_changes(old, new)
    if name == "collection_errors":
        return {"collection errors": [_errors(old), _errors(new)]}
    both = isinstance(old, dict) and isinstance(new, dict)
    if name == "cpu" and both and old.get("model") != new.get("model"):
        return {"CPU": [old.get("model"), new.get("model")]}
    label, show = VALUES.get(name, (f"hardware {name}", _short))
    return {label: [show(old), show(new)]}


def hardware_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{label: [before, after]}`` for every fact that differs between *old* and *new*."""
    changes: dict[str, list[Any]] = {}
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) != new.get(name):
            changes.update(_one(name, old.get(name), new.get(name)))
    return changes
