"""The audit trail of operator changes to organizations, specs, requests and the journal: who,
when, what. Device changes are recorded in DeviceHistory (services/history.py) instead."""

from __future__ import annotations

from typing import Any

from inventory.models import AuditEntry


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value differs (a new object: old is None)."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def audit_record(
    *,
    actor,
    object_type: str,
    object_id: object,
    object_repr: str,
    action: str,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEntry:
    """Writes one audit row; call it inside the service's transaction, so both commit together."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(object_repr)[:200],
        action=action,
        changes=changes or {},
    )
