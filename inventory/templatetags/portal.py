"""Template filters of the portal: status badges and the display of recorded changes."""

from __future__ import annotations

import json

from django import template

from inventory.portal.badges import LABELS
from inventory.portal.badges import badge as status_badge
from inventory.services import pciids
from inventory.services.speccheck import requirements_describe
from inventory.services.timeline import humane

register = template.Library()


@register.filter
def badge(value):
    return status_badge(value)


# Fields whose recorded values are status codes, shown by their labels.
STATUS_FIELDS = frozenset({"inventory_status", "imaging_status", "status", "outcome", "state"})


@register.filter
def change_value(value, field: str = "") -> str:
    """One side of a {field: [old, new]} change, as a person reads it."""
    if field in STATUS_FIELDS and isinstance(value, str):
        return LABELS.get(value, value)
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def is_nested(value) -> bool:
    return isinstance(value, dict | list)


@register.filter
def is_record(value) -> bool:
    """A flat record (the BMC, the TPM), shown as a two-column table of its fields."""
    return isinstance(value, dict) and not any(isinstance(v, dict | list) for v in value.values())


@register.filter
def as_table(value) -> dict | None:
    """A list of flat records (memory modules, PCI devices, disks, NICs, LLDP neighbours) as
    {"columns": [...], "rows": [[...], ...]} for a readable table; None for anything else."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return None
    columns: list[str] = []
    for record in value:
        columns += [key for key in record if key not in columns]
    rows = [[change_value(record.get(key)) for key in columns] for record in value]
    return {"columns": columns, "rows": rows}


@register.filter
def requirement_lines(requirements) -> list[str]:
    return requirements_describe(requirements or {})


@register.filter
def field_label(name: str) -> str:
    return str(name).replace("_", " ")


@register.filter
def first_inventory(changes) -> bool:
    """True for the history entry of a device's creation by inventory (no old status)."""
    status = (changes or {}).get("inventory_status")
    return bool(status) and status[0] is None


# Facts about the agent rather than the hardware, shown on their own on the device page.
AGENT_FACTS = frozenset({"agent_version", "collection_errors"})


@register.filter
def hardware_facts(hardware) -> list:
    """(key, value) of the hardware facts, without the agent's own (version, errors)."""
    facts = [(k, v) for k, v in (hardware or {}).items() if k not in AGENT_FACTS]
    return [(k, pciids.named(v) if k == "pci_devices" else v) for k, v in facts]


@register.filter
def duration(value) -> str:
    """A timedelta as a person reads it: "42 s", "6 min", "1 h 5 min"."""
    return humane(value) if value is not None else ""


@register.filter
def manages_webhooks(user) -> bool:
    """Staff, or an admin of some organization: the Webhooks page is theirs."""
    from inventory import authz

    return authz.is_staff(user) or authz.organizations(user, authz.MANAGE).exists()
