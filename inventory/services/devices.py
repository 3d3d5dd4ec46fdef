"""Operator actions on devices: Quick MAC Inventory (one or many), edits, re-inventory."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from inventory import authz
from inventory.choices import HistoryKind, InventoryStatus, SnSource
from inventory.errors import Conflict, InvalidMac, InventoryError, NotFound, ValidationFailed
from inventory.models import Device, DeviceMac, DeviceSpec, Organization
from inventory.services.history import device_snapshot, history_add, snapshot_diff
from inventory.services.locks import lock_identities
from inventory.services.macs import is_shared_mac, normalize_mac
from inventory.services.text import lookup_key, text_problem

MAX_BULK_LINES = 2000


def _is_id(text: str) -> bool:
    """ASCII digits within bigint: `"²".isdigit()` is true and int() refuses it."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def organization_by_name(value: object, *, field: str = "organization") -> Organization:
    """An organization by name, slug or id, or a NotFound naming *field*."""
    if isinstance(value, Organization):
        return value
    text = str(value).strip() if value is not None else ""
    if problem := text_problem(text):
        # Text the database cannot even compare names no organization.
        raise ValidationFailed([{"field": field, "code": problem[0], "message": problem[1]}])
    org = (
        Organization.objects.filter(name=text).first()
        or Organization.objects.filter(slug=text).first()
        or (Organization.objects.filter(pk=int(text)).first() if _is_id(text) else None)
    )
    if org is None:
        raise NotFound("unknown_organization", f"no organization {text!r}", field=field)
    return org


@transaction.atomic
def device_quick_add(*, mac_address: object, organization: object, actor=None) -> Device:
    """Creates a `manually_added` device flagged for inventory on its next network boot."""
    mac = normalize_mac(mac_address, field="mac_address")
    if is_shared_mac(mac):
        raise InventoryError(
            "shared_mac",
            f"{mac} is shared by many machines and cannot identify a device",
            field="mac_address",
        )
    org = organization_by_name(organization)
    authz.require_organization(actor, org)
    lock_identities([f"mac:{mac}"])
    existing = DeviceMac.objects.filter(mac=mac, shared=False).values_list("device_id", flat=True)
    if existing:
        raise mac_registered(actor, mac, existing[0])
    try:
        with transaction.atomic():
            device = Device.objects.create(
                inventory_status=InventoryStatus.MANUALLY_ADDED,
                organization=org,
                flagged_for_inventory=True,
            )
            DeviceMac.objects.create(device=device, mac=mac)
    except IntegrityError:
        # Lost a race on SQLite or against a submission: the MAC exists now.
        other = DeviceMac.objects.filter(mac=mac, shared=False).values_list("device_id", flat=True)
        raise mac_registered(actor, mac, other.first()) from None
    history_add(
        device=device, kind=HistoryKind.CREATED, note=f"Quick MAC Inventory: {mac}", actor=actor
    )
    return device


def mac_registered(actor, mac: str, device_id: str | None, *, field: str = "mac_address"):
    """The Conflict for a MAC a device holds: it names the device only to those who may see it."""
    visible = authz.visible_device_id(actor, device_id)
    where = f": device {visible}" if visible else ""
    return Conflict(
        "mac_already_registered",
        f"MAC {mac} is already registered{where}",
        field=field,
        device_id=visible,
        mac=mac,
    )


@dataclass
class BulkLine:
    line: int
    text: str
    outcome: str  # added, exists, invalid
    mac: str | None = None
    device_id: str | None = None
    message: str = ""


def parse_bulk_macs(text: str) -> list[tuple[int, str]]:
    """Lines of pasted text or CSV (the first column holding a MAC); header and blanks skipped."""
    lines: list[tuple[int, str]] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        if number == 1 and cells[0].lower() in {"mac", "mac_address", "mac address"}:
            continue
        lines.append((number, cells[0]))
    return lines


def device_quick_add_bulk(
    *, macs: list[str] | str, organization: object, actor=None
) -> list[BulkLine]:
    """Quick-adds many MACs; each line is added, already known, or invalid, independently."""
    org = organization_by_name(organization)
    authz.require_organization(actor, org)
    items = parse_bulk_macs(macs) if isinstance(macs, str) else list(enumerate(macs, start=1))
    if len(items) > MAX_BULK_LINES:
        raise ValidationFailed(
            [{"field": "macs", "code": "too_many", "message": f"at most {MAX_BULK_LINES} lines"}]
        )
    results: list[BulkLine] = []
    for number, text in items:
        field = f"macs[{number}]"
        try:
            device = device_quick_add(mac_address=text, organization=org, actor=actor)
            mac = device.macs.values_list("mac", flat=True)[0]
            results.append(BulkLine(number, str(text), "added", mac, device.pk))
        except Conflict as exc:
            results.append(
                BulkLine(
                    number,
                    str(text),
                    "exists",
                    exc.extra.get("mac"),
                    exc.extra.get("device_id"),
                    exc.message,
                )
            )
        except InvalidMac as exc:
            results.append(BulkLine(number, str(text), "invalid", message=exc.message))
        except InventoryError as exc:
            results.append(
                BulkLine(number, str(text), "invalid", message=f"{field}: {exc.message}")
            )
    return results


EDITABLE = ("name", "serial_number", "spec", "organization")


def _device_to_change(device_id: object, actor) -> Device:
    """The device *actor* may change, locked for the transaction; 404 otherwise."""
    device = (
        authz.restrict(Device.objects.all(), actor, authz.CHANGE)
        .select_for_update(of=("self",))
        .filter(pk=lookup_key(device_id, field="device_id"))
        .first()
    )
    if device is None:
        raise NotFound("unknown_device", f"no device {str(device_id)[:40]!r}", field="device_id")
    return device


def _edit_check(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(
            [{"field": unknown[0], "code": "not_editable", "message": "cannot be edited"}]
        )
    for name in ("name", "serial_number"):
        value = fields.get(name)
        if isinstance(value, str) and (problem := text_problem(value)):
            raise ValidationFailed([{"field": name, "code": problem[0], "message": problem[1]}])


def spec_by_name_or_id(value: Any) -> DeviceSpec | None:
    """The spec named *value* (or with id *value*), None for none, else NotFound."""
    if value in (None, ""):
        return None
    spec = DeviceSpec.objects.filter(name=str(value)).first() or (
        DeviceSpec.objects.filter(pk=value).first() if str(value).isdigit() else None
    )
    if spec is None:
        raise NotFound("unknown_spec", f"no device spec {value!r}", field="spec")
    return spec


@transaction.atomic
def device_update(*, device_id: str, actor=None, **fields: Any) -> Device:
    """An operator's edit of name, serial (entered by hand), spec or organization."""
    _edit_check(fields)
    device = _device_to_change(device_id, actor)
    before = device_snapshot(device)
    locked = set(device.locked_fields or [])
    if "name" in fields:
        device.name = (fields["name"] or "").strip()[:200]
        locked.add("name")
    if "serial_number" in fields:
        serial = (fields["serial_number"] or "").strip() or None
        device.serial_number = serial
        device.sn_source = SnSource.MANUAL if serial else None
        device.hardware_generated_sn = False
    if "spec" in fields:
        device.spec = spec_by_name_or_id(fields["spec"])
        locked.add("spec")
    if "organization" in fields:
        value = fields["organization"]
        device.organization = None if value in (None, "") else organization_by_name(value)
        authz.require_organization(actor, device.organization)
        locked.add("organization")
    device.locked_fields = sorted(locked)
    device.save()
    changes = snapshot_diff(before, device_snapshot(device))
    if changes:
        history_add(device=device, kind=HistoryKind.MANUAL, changes=changes, actor=actor)
    return device


@transaction.atomic
def device_flag_for_inventory(*, device_id: str, actor=None) -> Device:
    device = _device_to_change(device_id, actor)
    device.flagged_for_inventory = True
    device.save(update_fields=["flagged_for_inventory", "updated_at"])
    history_add(
        device=device, kind=HistoryKind.MANUAL, note="flagged for re-inventory", actor=actor
    )
    return device
