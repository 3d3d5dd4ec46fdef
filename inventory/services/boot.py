"""The boot decision shared by check-mac and the iPXE endpoint.

`decide_boot` is pure: it takes plain facts about one MAC and returns what the device should do,
with a reason a person can read. `boot_state` reads those facts with one hand-written query (this
is the hot path when a rack powers on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import connection

from inventory.choices import ImagingStatus
from inventory.services.macs import is_shared_mac, normalize_mac


class BootAction(StrEnum):
    INVENTORY = "inventory"
    IMAGING = "imaging"
    LOCAL = "local"


@dataclass(frozen=True)
class BootState:
    mac: str
    shared_mac: bool = False
    device_id: str | None = None
    device_org: str | None = None
    flagged: bool = False
    inventoried: bool = False  # has an accepted inventory
    has_serial: bool = False
    has_spec: bool = False
    fails_spec: bool = False  # its hardware fails its spec's requirements
    imaging_status: str | None = None
    request_id: int | None = None  # a pending request targets this MAC
    request_org: str | None = None
    discover_unknown: bool = False


@dataclass(frozen=True)
class BootDecision:
    action: BootAction
    reason: str
    device_id: str | None
    organization: str | None

    @property
    def needs_inventory(self) -> bool:
        return self.action is BootAction.INVENTORY


def decide_boot(state: BootState) -> BootDecision:
    """What a device booting with this MAC should do, and why."""

    def decision(action: BootAction, reason: str) -> BootDecision:
        return BootDecision(action, reason, state.device_id, state.device_org or state.request_org)

    if state.request_id is not None:
        return decision(BootAction.INVENTORY, f"pending device request #{state.request_id}")
    if state.device_id is None:
        if state.discover_unknown and not state.shared_mac:
            return decision(BootAction.INVENTORY, "unknown MAC, discovery is on")
        if state.shared_mac:
            return decision(BootAction.LOCAL, "shared MAC: never identifies a device")
        return decision(BootAction.LOCAL, "unknown MAC")
    if state.flagged:
        return decision(BootAction.INVENTORY, "flagged for inventory")
    if not state.inventoried:
        return decision(BootAction.INVENTORY, "no accepted inventory yet")
    status = state.imaging_status
    if status == ImagingStatus.AWAITING_INVENTORY and state.fails_spec:
        # Held from imaging; inventory again would find the same hardware.
        return decision(BootAction.LOCAL, "hardware does not meet its spec: waiting for a person")
    if status == ImagingStatus.AWAITING_INVENTORY and not (state.has_serial and state.has_spec):
        missing = "serial number" if not state.has_serial else "device spec"
        return decision(BootAction.INVENTORY, f"hardware details incomplete: no {missing}")
    if status in (ImagingStatus.READY_FOR_IMAGING, ImagingStatus.IMAGING):
        return decision(BootAction.IMAGING, f"imaging status {status}")
    return decision(BootAction.LOCAL, f"nothing to do (imaging status {status})")


# One statement, two indexed lookups (device MAC, open request MAC). Placeholders are the same
# value twice so that the statement works on both psycopg and sqlite3 paramstyles. Every column
# is named after the BootState field it fills, and readers take it by that name
# (bench/baseline.py too), so a column added anywhere cannot shift another into its place.
_STATE_SQL = """
SELECT d.id AS device_id, o.name AS device_org, d.flagged_for_inventory AS flagged,
       d.inventoried_at IS NOT NULL AS inventoried,
       (d.serial_number IS NOT NULL AND d.serial_number <> '') AS has_serial,
       d.spec_id IS NOT NULL AS has_spec, d.fails_spec AS fails_spec,
       d.imaging_status AS imaging_status, r.id AS request_id, ro.name AS request_org
FROM (SELECT 1 AS one) AS seed
LEFT JOIN inventory_devicemac AS m ON m.mac = %s AND m.shared = false
LEFT JOIN inventory_device AS d ON d.id = m.device_id
LEFT JOIN inventory_organization AS o ON o.id = d.organization_id
LEFT JOIN inventory_requestmac AS rm ON rm.mac = %s AND rm.open = true
LEFT JOIN inventory_devicerequest AS r ON r.id = rm.request_id AND r.status = 'pending'
LEFT JOIN inventory_organization AS ro ON ro.id = r.organization_id
"""


def _state_row(mac: str) -> dict[str, object]:
    """The statement's one row, by column name."""
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [mac, mac])
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def boot_state(mac: str) -> BootState:
    """The facts decide_boot needs for a canonical MAC, in one query."""
    shared = is_shared_mac(mac)
    discover = settings.ARROW_DISCOVER_UNKNOWN
    if shared:
        return BootState(mac=mac, shared_mac=True, discover_unknown=discover)
    row = _state_row(mac)
    return BootState(
        mac=mac,
        device_id=row["device_id"],
        device_org=row["device_org"],
        flagged=bool(row["flagged"]),  # SQLite answers 0/1, a missing device NULL
        inventoried=bool(row["inventoried"]),
        has_serial=bool(row["has_serial"]),
        has_spec=bool(row["has_spec"]),
        fails_spec=bool(row["fails_spec"]),
        imaging_status=row["imaging_status"],
        request_id=row["request_id"],
        request_org=row["request_org"],
        discover_unknown=discover,
    )


def boot_decide_for_mac(mac_text: object, *, field: str = "mac_address") -> BootDecision:
    """Normalize, read, decide: the whole check-mac service."""
    mac = normalize_mac(mac_text, field=field)
    return decide_boot(boot_state(mac))
