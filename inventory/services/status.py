"""Inventory status changes by operators: which transitions are allowed, and the bulk update."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from inventory.authz import CHANGE, restrict
from inventory.choices import ADMIN_STATUSES, HistoryKind
from inventory.errors import NotFound, ValidationFailed
from inventory.models import Device, DeviceHistory
from inventory.services.text import text_problem


def check_admin_status(value: object, *, field: str = "new_status") -> str:
    allowed = [s.value for s in ADMIN_STATUSES]
    if value not in allowed:
        raise ValidationFailed(
            [
                {
                    "field": field,
                    "code": "invalid_status",
                    "message": f"{str(value)[:60]!r} is not one of {', '.join(allowed)}",
                }
            ]
        )
    return str(value)


@transaction.atomic
def device_status_bulk_update(
    *, device_ids: Sequence[str], new_status: object, actor=None
) -> list[str]:
    """Sets *new_status* on every device, or on none: unknown ids (and those *actor* may not
    change, which look the same) are named and nothing changes."""
    status = check_admin_status(new_status)
    if not isinstance(device_ids, list | tuple) or not device_ids:
        raise ValidationFailed(
            [{"field": "device_ids", "code": "required", "message": "list at least one device id"}]
        )
    if not all(isinstance(d, str) for d in device_ids):
        raise ValidationFailed(
            [{"field": "device_ids", "code": "type", "message": "device ids are strings"}]
        )
    for i, device_id in enumerate(device_ids):
        # Text PostgreSQL cannot even compare (NUL, lone surrogates) is no device id.
        if problem := text_problem(device_id):
            raise ValidationFailed([{"field": f"device_ids[{i}]", "code": problem[0],
                                     "message": problem[1]}])  # fmt: skip
    wanted = list(dict.fromkeys(device_ids))
    base = restrict(Device.objects.all(), actor, CHANGE)
    # Lock in primary-key order so that two bulk updates cannot deadlock.
    rows = list(
        base.select_for_update(of=("self",))
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", "inventory_status")
    )
    found = {pk for pk, _ in rows}
    missing = [d for d in wanted if d not in found]
    if missing:
        raise NotFound(
            "unknown_devices",
            f"unknown device id(s): {', '.join(missing[:20])}",
            field="device_ids",
            missing=missing,
        )
    Device.objects.filter(pk__in=wanted).update(inventory_status=status, updated_at=timezone.now())
    DeviceHistory.objects.bulk_create(
        DeviceHistory(
            device_id=pk,
            kind=HistoryKind.STATUS,
            changes={"inventory_status": [old, status]},
            actor=actor if actor is not None and actor.is_authenticated else None,
        )
        for pk, old in rows
        if old != status
    )
    return wanted
