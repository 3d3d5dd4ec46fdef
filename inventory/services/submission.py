"""Inventory submissions: journal the body, validate it, create or update the device.

The journal row is committed on its own before anything else, so a rejected, conflicting or
crashed submission is still there for a person to read. Applying the data happens in one
transaction that also marks the row accepted; a rejection is marked after that transaction rolled
back, so the mark survives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from arrow_agent.serials import clean_serial
from inventory.authz import token_device_allows
from inventory.choices import (
    AuditAction,
    HistoryKind,
    ImagingStatus,
    InventoryStatus,
    RequestStatus,
    SubmissionOutcome,
    WebhookEventType,
)
from inventory.errors import (
    BodyTooLarge,
    Conflict,
    Forbidden,
    InventoryError,
    NotFound,
    ValidationFailed,
)
from inventory.models import Device, DeviceMac, DeviceRequest, DeviceSpec, Submission
from inventory.schemas import SubmitIn, parse_body
from inventory.services.audit import audit_record
from inventory.services.history import device_snapshot, history_add, snapshot_diff
from inventory.services.locks import lock_identities
from inventory.services.macs import is_shared_mac
from inventory.services.matching import spec_match
from inventory.services.merge import FACTS, NEW_DEVICE, InventoryData, Merged, merge
from inventory.services.pxe import boot_token_consume
from inventory.services.serials import (
    SUSPECT_MERGE,
    Observation,
    serial_applied,
    serial_merge_split,
    serial_observation,
    serial_observe,
)
from inventory.services.speccheck import Facts, SpecVerdict, spec_verdict, spec_verdict_record
from inventory.services.webhooks import emit_device_event

log = logging.getLogger(__name__)

# Headers never stored: credentials, and what a proxy may add with them.
SECRET_HEADERS = frozenset(
    {"x-service-api-key", "x-inventory-token", "authorization", "cookie", "proxy-authorization"}
)


@dataclass
class SubmitResult:
    device_id: str
    status: str
    device_spec: str | None
    organization: str | None
    imaging_status: str
    submission_id: int
    changed: bool
    warnings: list[str] = field(default_factory=list)
    spec_mismatches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """A person's answer to a conflict: the submission belongs to *device_id*, or to a new device
    when it is None. Either way the submission's MACs and serial move to that device."""

    device_id: str | None
    actor: Any = None


def submission_record(
    *, raw: bytes, headers: dict[str, str], remote_addr: str | None, credential: str
) -> Submission:
    """Writes the body as received, in its own committed transaction (never inside another)."""
    kept = jsonb_safe({k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS})
    with transaction.atomic():
        return Submission.objects.create(
            body=raw, headers=kept, remote_addr=remote_addr, credential=credential
        )


def submission_reject_too_large(*, entry: Submission, size: int, limit: int) -> None:
    """Marks a journaled prefix of an oversized body rejected, then raises BodyTooLarge.

    The journal keeps the first bytes (enough to see who sent what) and says in `error` that
    they are a prefix: body_bytes is the declared size, journaled_bytes what was kept.
    """
    exc = BodyTooLarge.of(size, limit, body_bytes=size, journaled_bytes=len(bytes(entry.body)))
    _mark(entry, SubmissionOutcome.REJECTED, exc)
    log.info("submission %s rejected: %s", entry.pk, exc.message)
    raise exc


def jsonb_safe(value: Any) -> Any:
    """*value* with every string storable in PostgreSQL's jsonb: NUL and lone surrogates, which
    a hostile body can put in field names that errors then quote, become visible escapes."""
    if isinstance(value, str):
        if "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            return (
                value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
            )
        return value
    if isinstance(value, dict):
        return {jsonb_safe(k): jsonb_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonb_safe(v) for v in value]
    return value


def _mark(entry: Submission, outcome: str, exc: InventoryError) -> None:
    entry.outcome = outcome
    entry.error = jsonb_safe(exc.as_dict())
    entry.conflict_device_ids = exc.extra.get("device_ids", [])
    entry.save(update_fields=["outcome", "error", "conflict_device_ids"])


def submission_data(entry: Submission) -> InventoryData:
    """The journaled body, validated by its schema: ValidationFailed names each field at fault."""
    return parse_body(bytes(entry.body), SubmitIn).inventory_data.to_data()


def submission_process(
    *, entry: Submission, bound_mac: str | None = None, token_id: int | None = None
) -> SubmitResult:
    """Validates and applies a journaled submission; marks the journal row with the outcome.

    *bound_mac*, *token_id*: the MAC a per-boot token was issued for (the submission must report
    it) and the token, consumed in the same transaction as an accepted submission.
    """
    try:
        data = submission_data(entry)
        if bound_mac is not None and bound_mac not in {m.mac for m in data.macs}:
            raise Forbidden(
                "token_mac_mismatch",
                f"the inventory token was issued for {bound_mac}, which this submission does "
                "not report",
                field="inventory_data.mac_address",
            )
        for attempt in range(3):
            try:
                return _apply(entry=entry, data=data, token_id=token_id, bound_mac=bound_mac)
            except IntegrityError:
                # Another transaction won a race the locks do not cover (SQLite, or a portal
                # edit); re-read and try again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
    except Conflict as exc:
        with transaction.atomic():  # the mark and its event commit together
            _mark(entry, SubmissionOutcome.CONFLICT, exc)
            _emit_conflict(entry, exc)
        log.warning("submission %s conflict: %s", entry.pk, exc.message)
        raise
    except InventoryError as exc:
        _mark(entry, SubmissionOutcome.REJECTED, exc)
        log.info("submission %s rejected: %s", entry.pk, exc.message)
        raise
    except (IntegrityError, DataError) as exc:
        _mark_failed(entry, exc)
        raise


def _emit_conflict(entry: Submission, exc: Conflict) -> None:
    """device.conflict for the organization of the device the MACs name (the first one): the
    other devices are named only when they are of that organization too."""
    ids = list(exc.extra.get("device_ids") or [])
    devices = {d.pk: d for d in Device.objects.filter(pk__in=ids).select_related("organization")}
    first = devices.get(ids[0]) if ids else None
    if first is None:
        return
    same_org = [
        d for d in ids if d in devices and devices[d].organization_id == first.organization_id
    ]
    data = {
        "submission": entry.pk,
        "code": exc.code,
        "field": exc.field,
        "device_ids": same_org,
    }
    emit_device_event(WebhookEventType.DEVICE_CONFLICT, first, **data)


def _mark_failed(entry: Submission, exc: Exception) -> None:
    """A submission the database refused for a reason no check caught: marked rejected, so that
    no journal row stays `received` forever. (An unavailable database is a 503 the agent
    retries; its row cannot be marked then.)"""
    error = InventoryError("server_error", f"not stored: {exc.__class__.__name__}", field="body")
    try:
        _mark(entry, SubmissionOutcome.REJECTED, error)
    except DatabaseError:
        log.error("submission %s: could not mark it rejected (database unavailable)", entry.pk)
    log.error("submission %s failed: %s", entry.pk, exc.__class__.__name__)


# The identity lookups of a submission are hand-written SQL, one round trip each, like check-mac's:
# every device of a rack submits in the same minute, and the ORM's query building cost more
# than the queries themselves (0.9 ms of 4.7 ms of CPU per submission, measured). Placeholders
# are expanded per MAC count; the statements work on PostgreSQL and SQLite alike.
def _in(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))


def _identity_rows(macs: list[str], serial: str | None) -> list[tuple[str, str, str]]:
    """("mac", device id, MAC) for each of *macs* a device holds, ("serial", id, serial)."""
    parts, params = [], []
    if macs:
        parts.append(
            "SELECT 'mac', device_id, mac FROM inventory_devicemac "  # noqa: S608 - placeholders
            f"WHERE mac IN ({_in(macs)}) AND shared = false"
        )
        params += macs
    if serial:
        parts.append(
            "SELECT 'serial', id, serial_number FROM (SELECT id, serial_number FROM "
            "inventory_device WHERE serial_number = %s "
            "ORDER BY updated_at DESC, id LIMIT 5) AS by_serial"
        )
        params.append(serial)
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return cursor.fetchall()


def _token_scope_check(bound_mac: str | None, rows: list[tuple[str, str, str]]) -> None:
    """A per-boot token proves one device (the one holding its MAC, or a new one): refuse a
    submission whose other MACs or serial point at any other device."""
    if bound_mac is None:
        return
    bound = next((dev for kind, dev, value in rows if kind == "mac" and value == bound_mac), None)
    identified = {dev for _, dev, _ in rows}
    if not token_device_allows(bound, identified):
        kinds = {kind for kind, dev, _ in rows if dev != bound}
        raise Forbidden(
            "token_device_mismatch",
            f"the inventory token proves the device of {bound_mac} only; the reported "
            f"{' and '.join(sorted(kinds))} belong to another device",
            field="inventory_data.mac_address"
            if "mac" in kinds
            else "inventory_data.serial_number",
        )


def _find_device_id(rows: list[tuple[str, str, str]], serial: str | None) -> str | None:
    """The device these MACs (else this serial) identify; Conflict when they disagree."""
    mac_devices = sorted({device for kind, device, _ in rows if kind == "mac"})
    if len(mac_devices) > 1:
        raise Conflict(
            "mac_conflict",
            f"the reported MACs belong to several devices: {', '.join(mac_devices)}",
            field="inventory_data.mac_address",
            device_ids=mac_devices,
        )
    serial_devices = [device for kind, device, _ in rows if kind == "serial"]
    if mac_devices:
        others = [d for d in serial_devices if d != mac_devices[0]]
        if others:
            raise Conflict(
                "identity_conflict",
                f"the MACs belong to device {mac_devices[0]} but serial {serial!r} belongs to "
                f"device {others[0]}; not merged, waiting for a person",
                field="inventory_data.serial_number",
                device_ids=[mac_devices[0], others[0]],
            )
        return mac_devices[0]
    if len(serial_devices) > 1:
        raise Conflict(
            "serial_conflict",
            f"serial {serial!r} belongs to several devices: {', '.join(serial_devices)}",
            field="inventory_data.serial_number",
            device_ids=serial_devices,
        )
    return serial_devices[0] if serial_devices else None


def _pending_request(macs: list[str]) -> DeviceRequest | None:
    if not macs:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rm.request_id FROM inventory_requestmac AS rm "  # noqa: S608 - placeholders
            "JOIN inventory_devicerequest AS r ON r.id = rm.request_id "
            f"WHERE rm.mac IN ({_in(macs)}) AND rm.open = true AND r.status = %s "
            "ORDER BY rm.request_id LIMIT 1",
            [*macs, RequestStatus.PENDING.value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return (
        DeviceRequest.objects.select_for_update(of=("self",))
        .select_related("organization", "spec")
        .get(pk=row[0])
    )


def identify(*, macs: list[str], serial: str | None, bound_mac: str | None) -> str | None:
    """The id of the one device these MACs (else this serial) name, None for a device not yet
    known. Conflict when they name several; Forbidden when a per-boot token bound to *bound_mac*
    would reach another device."""
    rows = _identity_rows(macs, serial)
    _token_scope_check(bound_mac, rows)
    return _find_device_id(rows, serial)


@dataclass
class _Target:
    """The device a submission is applied to, locked, with its MACs as they were."""

    device: Device
    old_macs: dict[str, DeviceMac]
    before: dict[str, Any]  # device_snapshot before the submission; empty for a new device

    @property
    def is_new(self) -> bool:
        return not self.before


def _target(device_id: str | None) -> _Target:
    if device_id is None:
        return _Target(Device(inventory_status=InventoryStatus.NEWLY_INVENTORIED), {}, {})
    device = (
        Device.objects.select_for_update(of=("self",))
        .select_related("spec", "organization")
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise NotFound("unknown_device", f"no device {device_id!r}", field="device_id")
    old_macs = {m.mac: m for m in device.macs.all()}
    return _Target(device, old_macs, device_snapshot(device, [str(m) for m in old_macs.values()]))


def _current_facts(target: _Target) -> dict[str, Any]:
    if target.is_new:
        return dict(NEW_DEVICE)
    facts = {key: target.before[key] for key in FACTS}
    return {**facts, "hardware": target.device.hardware or {}}


def _write_facts(device: Device, facts: dict[str, Any], spec: DeviceSpec | None) -> None:
    for key in WRITTEN_FACTS:
        setattr(device, key, facts[key])
    if facts["spec"] != (device.spec.name if device.spec_id else None):
        device.spec = spec


WRITTEN_FACTS = (
    "name",
    "serial_number",
    "sn_source",
    "hardware_generated_sn",
    "reported_spec",
    "has_modem",
    "imei",
    "hardware",
)


@transaction.atomic
def _apply(
    *,
    entry: Submission,
    data: InventoryData,
    placement: Placement | None = None,
    token_id: int | None = None,
    bound_mac: str | None = None,
) -> SubmitResult:
    """Identify the device, merge the submission into its facts, persist. With a *placement* (a
    person resolving a conflict) the device is the one they chose instead of the one the MACs
    and serial point to, and other devices give those identities up. *token_id*: a per-boot
    token consumed in this transaction, so that only an accepted submission uses it up."""
    if token_id is not None:
        boot_token_consume(token_id)
    own_macs = [m.mac for m in data.macs if not is_shared_mac(m.mac)]
    serial = clean_serial(data.serial_number)
    lock_identities([f"mac:{m}" for m in own_macs] + ([f"serial:{serial}"] if serial else []))
    observation, device_id = _identify_step(placement, own_macs, serial, bound_mac)
    target = _target(device_id)
    notes = _placement_notes(placement, target, own_macs, observation.serial, entry)
    device = target.device
    spec = spec_match(data.device_spec)
    merged = merge(
        _current_facts(target),
        set(device.locked_fields or []),
        data,
        matched_spec=spec.name if spec else None,
    )
    notes += observation.notes + merged.notes
    needs_inventory = device.flagged_for_inventory or device.inventoried_at is None
    _write_facts(device, merged.facts, spec)
    device.warnings = list(data.warnings)
    request = _join_request(target, own_macs, decided=placement is not None)
    verdict, spec_changes = _spec_check(target, merged, len(own_macs), notes)
    changed = _is_change(target, merged, spec_changes, verdict, needs_inventory, request)
    actor = placement.actor if placement else None
    if changed:
        _persist_change(
            entry, target, data, merged, request, notes, actor, spec=(verdict, spec_changes)
        )
    else:
        history_add(
            device=device,
            kind=HistoryKind.NO_CHANGE,
            note="; ".join(["inventory reported no change", *notes]),
            submission=entry,
            actor=actor,
        )
    serial_applied(
        observation=observation,
        device=device,
        entry=entry,
        replaced_macs=_replaced_macs(target, own_macs),
    )
    _mark_applied(entry, device, placement)
    return _result(device, entry, changed, notes)


def _is_change(
    target: _Target,
    merged: Merged,
    spec_changes: dict[str, list],
    verdict: SpecVerdict,
    needs_inventory: bool,
    request: DeviceRequest | None,
) -> bool:
    """Whether the submission changes the device: a fact, its spec check, or its place in the
    lifecycle (it was waiting for inventory, joins a request, is now held from imaging, or no
    longer is: its spec now says "image anyway")."""
    status = target.device.imaging_status
    held_back = verdict.held and status == ImagingStatus.READY_FOR_IMAGING
    released = not verdict.held and status == ImagingStatus.AWAITING_INVENTORY
    return (
        target.is_new
        or bool(merged.changes)
        or needs_inventory
        or request is not None
        or bool(spec_changes)
        or held_back
        or released
    )


def _spec_check(
    target: _Target, merged: Merged, nics: int, notes: list[str]
) -> tuple[SpecVerdict, dict[str, list]]:
    """The device's hardware (as merged) against its spec: the verdict is set on the device,
    its note added to *notes*; returns the verdict and the history's change of it."""
    device = target.device
    facts = Facts(
        hardware=merged.facts["hardware"] or {}, has_modem=merged.facts["has_modem"], nics=nics
    )
    verdict = spec_verdict(device.spec if device.spec_id else None, facts)
    changes, spec_notes = spec_verdict_record(device=device, verdict=verdict, is_new=target.is_new)
    notes += spec_notes
    return verdict, changes


def _identify_step(
    placement: Placement | None, macs: list[str], serial: str | None, bound_mac: str | None
) -> tuple[Observation, str | None]:
    """The serial's sighting and verdict, then the device: the one the MACs (else a serial
    that still identifies) name, or the one a person chose (then nothing new is sighted)."""
    if placement is not None:
        return serial_observation(serial), placement.device_id
    observation = serial_observe(serial=serial, macs=macs)
    return observation, identify(macs=macs, serial=observation.serial, bound_mac=bound_mac)


def _replaced_macs(target: _Target, macs: list[str]) -> list[str] | None:
    """The MACs (``iface:mac``) of an existing device that the serial alone found, which this
    submission's MACs replace: a merge through the serial. None otherwise."""
    own = [str(row) for mac, row in target.old_macs.items() if not row.shared]
    if target.is_new or not own or set(macs) & set(target.old_macs):
        return None
    return own


def _join_request(target: _Target, macs: list[str], *, decided: bool) -> DeviceRequest | None:
    """The pending request these MACs are targeted by, which the device joins, if any."""
    request = _pending_request(macs)
    if request is not None:
        locked = set(target.device.locked_fields or [])
        _apply_request(target.device, request, locked=locked, decided=decided, is_new=target.is_new)
    return request


def _placement_notes(
    placement: Placement | None,
    target: _Target,
    macs: list[str],
    serial: str | None,
    entry: Submission,
) -> list[str]:
    if placement is None:
        return []
    # The new device's id exists before it is saved (the field's default), so the others can
    # already say where their MACs and serial went.
    _release_identities(
        macs=macs, serial=serial, keep=target.device.pk, entry=entry, actor=placement.actor
    )
    where = "new device" if target.is_new else f"attached to {target.device.pk}"
    return [f"conflict resolved by a person: {where}"]


def _persist_change(
    entry: Submission,
    target: _Target,
    data: InventoryData,
    merged: Merged,
    request: DeviceRequest | None,
    notes: list[str],
    actor,
    *,
    spec: tuple[SpecVerdict, dict[str, list]],
) -> None:
    """*spec*: the verdict of the spec check and its change for the history. A device whose
    hardware fails its spec is held from imaging (one ready for imaging goes back to waiting;
    one already imaging or imaged is left where it is) unless the spec says "image anyway"."""
    device = target.device
    held = spec[0].held
    if not target.is_new:
        device.inventory_status = InventoryStatus.UPDATED_VIA_INVENTORY
    if held and device.imaging_status == ImagingStatus.READY_FOR_IMAGING:
        device.imaging_status = ImagingStatus.AWAITING_INVENTORY
    elif not held and device.imaging_status == ImagingStatus.AWAITING_INVENTORY:
        device.imaging_status = ImagingStatus.READY_FOR_IMAGING
    device.flagged_for_inventory = False
    device.inventoried_at = timezone.now()
    device.save()
    _replace_macs(device, target.old_macs, {m.mac: m.interface for m in data.macs})
    if request is not None:
        request.status = RequestStatus.INVENTORIED
        request.save(update_fields=["status", "updated_at"])
    changes = snapshot_diff(target.before, device_snapshot(device, merged.facts["macs"]))
    if not target.is_new:
        # A new device's hardware is its first facts, not a change of them.
        changes = {**merged.changes, **changes}
    changes.update(spec[1])  # non-empty when the spec check's verdict changed
    history_add(
        device=device,
        kind=HistoryKind.INVENTORY,
        changes=changes,
        note="; ".join(notes + ([f"request #{request.pk} inventoried"] if request else [])),
        submission=entry,
        actor=actor,
    )
    event = (
        WebhookEventType.DEVICE_INVENTORIED if target.is_new else WebhookEventType.DEVICE_UPDATED
    )
    emit_device_event(event, device, submission=entry.pk, changed=sorted(changes))
    if spec[1] and device.fails_spec:  # it fails its spec now, or for other reasons than before
        emit_device_event(
            WebhookEventType.DEVICE_FAILS_SPEC, device,
            submission=entry.pk, spec_mismatches=_mismatch_texts(device),
        )  # fmt: skip


def _mark_applied(entry: Submission, device: Device, placement: Placement | None) -> None:
    entry.device = device
    if placement is None:
        entry.outcome = SubmissionOutcome.ACCEPTED
        kept = {"warnings": device.warnings, "spec_mismatches": _mismatch_texts(device)}
        entry.error = {k: v for k, v in kept.items() if v} or None
        entry.save(update_fields=["outcome", "device", "error"])
        return
    # The conflict's error stays: it is why a person had to decide.
    entry.outcome = SubmissionOutcome.RESOLVED
    actor = placement.actor
    entry.resolved_by = actor if actor is not None and actor.is_authenticated else None
    entry.save(update_fields=["outcome", "device", "resolved_by"])


def _mismatch_texts(device: Device) -> list[str]:
    return [m["message"] for m in device.spec_mismatches or []]


def _result(device: Device, entry: Submission, changed: bool, notes: list[str]) -> SubmitResult:
    return SubmitResult(
        device_id=device.pk,
        status=device.inventory_status,
        device_spec=device.spec.name if device.spec_id else None,
        organization=device.organization.name if device.organization_id else None,
        imaging_status=device.imaging_status,
        submission_id=entry.pk,
        changed=bool(changed),
        warnings=list(device.warnings) + notes,
        spec_mismatches=_mismatch_texts(device),
    )


def _apply_request(
    device: Device, request: DeviceRequest, *, locked: set[str], decided: bool, is_new: bool
) -> None:
    """The device joins the pending request that targets it, and the request's organization.
    A submission never moves a device out of another organization, nor out of one set by hand:
    that is a conflict for staff, unless a person resolving it (*decided*) said so."""
    if not decided and not is_new:
        other_org = device.organization_id not in (None, request.organization_id)
        hand_set = "organization" in locked and device.organization_id != request.organization_id
        if other_org or hand_set:
            raise Conflict(
                "organization_conflict",
                f"request #{request.pk} is for another organization than device {device.pk}'s; "
                "not moved, waiting for staff",
                field="inventory_data.mac_address",
                device_ids=[device.pk],
            )
    device.organization = request.organization
    device.request = request
    if request.spec_id and device.spec_id and request.spec_id != device.spec_id:
        device.warnings.append(
            f"request #{request.pk} asked for spec {request.spec.name!r}, "
            f"the device reports {device.spec.name!r}"
        )


def _replace_macs(device: Device, old: dict[str, DeviceMac], new: dict[str, str]) -> None:
    gone = [row.pk for mac, row in old.items() if mac not in new]
    if gone:
        DeviceMac.objects.filter(pk__in=gone).delete()
    for mac, row in old.items():
        if mac in new and row.interface != new[mac]:
            row.interface = new[mac]
            row.save(update_fields=["interface"])
    DeviceMac.objects.bulk_create(
        DeviceMac(device=device, mac=mac, interface=iface, shared=is_shared_mac(mac))
        for mac, iface in new.items()
        if mac not in old
    )


def _release_identities(
    *, macs: list[str], serial: str | None, keep: str, entry: Submission, actor
) -> None:
    """Takes *macs* and *serial* away from every device but *keep*, with a history line on each:
    a person decided they belong to *keep*, and leaving them would raise the conflict again."""
    mac_owners = DeviceMac.objects.filter(mac__in=macs, shared=False).exclude(device_id=keep)
    owner_ids = set(mac_owners.values_list("device_id", flat=True))
    if serial:
        owner_ids |= set(
            Device.objects.filter(serial_number=serial)
            .exclude(pk=keep)
            .values_list("pk", flat=True)
        )
    # Locked in primary-key order, like the bulk status update, so that two cannot deadlock.
    for other in (
        Device.objects.select_for_update(of=("self",)).filter(pk__in=owner_ids).order_by("pk")
    ):
        before = device_snapshot(other)
        DeviceMac.objects.filter(device=other, mac__in=macs).delete()
        if serial and other.serial_number == serial:
            other.serial_number = None
            other.sn_source = None
            other.hardware_generated_sn = False
            other.save(
                update_fields=["serial_number", "sn_source", "hardware_generated_sn", "updated_at"]
            )
        history_add(
            device=other,
            kind=HistoryKind.MANUAL,
            changes=snapshot_diff(before, device_snapshot(other)),
            note=f"gave its MACs/serial up to {keep}: conflict of submission #{entry.pk} resolved",
            submission=entry,
            actor=actor,
        )


RESOLVE_ACTIONS = ("attach", "create")


@transaction.atomic
def submission_resolve(
    *, submission_id: int, action: str, device_id: str | None = None, actor=None
) -> SubmitResult:
    """A person resolves a conflict: the journaled body is applied again, attached to one of the
    conflicting devices (*action* "attach") or to a new device ("create"). The row is marked
    `resolved` with who did it; its original error stays."""
    entry = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if entry is None:
        raise NotFound(
            "unknown_submission", f"no submission #{submission_id}", field="submission_id"
        )
    if entry.outcome != SubmissionOutcome.CONFLICT:
        raise InventoryError(
            "not_a_conflict",
            f"submission #{entry.pk} is {entry.outcome}, not a conflict waiting for a person",
            field="submission_id",
        )
    if action not in RESOLVE_ACTIONS:
        raise ValidationFailed(
            [
                {
                    "field": "action",
                    "code": "invalid_choice",
                    "message": f"{str(action)[:40]!r} is not one of {', '.join(RESOLVE_ACTIONS)}",
                }
            ]
        )
    if action == "attach":
        if device_id not in (entry.conflict_device_ids or []):
            raise InventoryError(
                "not_a_candidate",
                f"device {device_id!r} is not one of this conflict's devices: "
                f"{', '.join(entry.conflict_device_ids or [])}",
                field="device_id",
            )
        placement = Placement(device_id=device_id, actor=actor)
    else:
        placement = Placement(device_id=None, actor=actor)
    data = submission_data(entry)
    merge_flag = (entry.error or {}).get("code") == SUSPECT_MERGE
    result = _apply(entry=entry, data=data, placement=placement)
    if merge_flag and action == "create":
        new_device = Device.objects.get(pk=result.device_id)
        serial_merge_split(entry=entry, new_device=new_device, actor=actor)
    audit_record(
        actor=actor,
        object_type="submission",
        object_id=entry.pk,
        object_repr=f"Submission #{entry.pk}",
        action=AuditAction.RESOLVED,
        changes={
            "outcome": [SubmissionOutcome.CONFLICT.value, SubmissionOutcome.RESOLVED.value],
            "device": [None, result.device_id],
            "resolution": [None, "new device" if action == "create" else f"attach {device_id}"],
        },
    )
    return result
