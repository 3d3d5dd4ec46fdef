"""Fleet-wide junk serials: a serial that several machines report is a placeholder, whatever it
looks like. Owns the rule (sightings of a serial by MAC set, machines counted, the threshold),
the suspect serials and staff's decision on them; knows nothing about how a device is merged.

A *sighting* is one MAC set a serial came with: the submission's MACs that are not shared,
sorted, so that one machine reporting its NICs in another order is the same sighting. MAC sets
that share any MAC are one *machine* (a NIC added, removed or replaced keeps the others). A
serial reported by ``ARROW_SUSPECT_SERIAL_MAC_SETS`` machines (3) or more becomes *suspect*: it
no longer identifies devices (they are found by their MACs alone), and every earlier merge made
through it (a device whose MACs were replaced because only the serial matched) becomes a
conflict for a person. Staff confirm a suspect serial (it stays a placeholder) or clear it (it
identifies again, until a machine beyond those they saw reports it).

The sighting is read and written in the submission's own transaction, which holds the serial's
advisory lock (`lock_identities`) from before the rule reads until it commits; staff's decision
takes the same lock. So concurrent submissions of one serial are judged one after the other and
none can miss another; the unique (serial, MAC set) constraint keeps one row per sighting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.authz import require_staff
from inventory.choices import (
    PLACEHOLDER_SERIAL_STATES,
    AuditAction,
    HistoryKind,
    SerialState,
    SubmissionOutcome,
)
from inventory.errors import NotFound, ValidationFailed
from inventory.models import Device, DeviceMac, SerialSighting, Submission, SuspectSerial
from inventory.services.audit import audit_record
from inventory.services.history import device_snapshot, history_add, snapshot_diff
from inventory.services.locks import lock_identities

# The error code of a merge made through a serial that turned out to be a placeholder.
SUSPECT_MERGE = "suspect_serial_merge"
DECISIONS = {"confirm": SerialState.CONFIRMED, "clear": SerialState.CLEARED}


# --- the rule (pure) ---------------------------------------------------------------------------


def mac_set_key(macs: Iterable[str]) -> str:
    """The sighting's key: canonical MACs, each once, sorted, comma-joined."""
    return ",".join(sorted(set(macs)))


def count_machines(mac_sets: Iterable[Iterable[str]]) -> int:
    """How many machines these MAC sets are: sets that share a MAC (directly, or through other
    sets) are one machine. Empty sets are no machine."""
    parent: dict[str, str] = {}

    def root(mac: str) -> str:
        while parent[mac] != mac:
            parent[mac] = parent[parent[mac]]
            mac = parent[mac]
        return mac

    for macs in mac_sets:
        macs = list(macs)
        for mac in macs:
            parent.setdefault(mac, mac)
        for mac in macs[1:]:
            parent[root(mac)] = root(macs[0])
    return len({root(mac) for mac in parent})


def judge(*, machines: int, threshold: int, state: str | None) -> str | None:
    """The serial's state once it has been seen on *machines* machines: None for an ordinary
    serial, *state* its state so far. Staff's decisions hold: a confirmed serial stays a
    placeholder, a cleared one identifies whatever reports it next (any machine found by the
    serial alone is by definition one more MAC set: re-judging would undo every clear)."""
    if state is not None:
        return state
    return SerialState.SUSPECT if machines >= threshold else None


def threshold() -> int:
    return settings.ARROW_SUSPECT_SERIAL_MAC_SETS


# --- inside a submission's transaction ----------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What the rule says of a submission's serial: whether it identifies, and the sighting
    (its sorted MAC set) to record once the submission is applied."""

    reported: str | None
    identifies: bool
    mac_set: str = ""

    @property
    def serial(self) -> str | None:
        """The serial to identify by: None when there is none or it is a placeholder."""
        return self.reported if self.identifies else None

    @property
    def notes(self) -> list[str]:
        if self.reported and not self.identifies:
            return [f"serial {self.reported!r} is a suspect placeholder: not used to find devices"]
        return []


def serial_identifies(serial: str | None) -> bool:
    """False for no serial and for a suspect or confirmed one (a placeholder)."""
    if not serial:
        return False
    placeholder = SuspectSerial.objects.filter(serial=serial, state__in=PLACEHOLDER_SERIAL_STATES)
    return not placeholder.exists()


def serial_observation(serial: str | None) -> Observation:
    """The verdict on *serial* without a new sighting (a person placing a submission)."""
    return Observation(reported=serial, identifies=serial_identifies(serial))


# The serial's decided state, or else the MAC sets it was seen with: one round trip (submit is
# the hot path; a placeholder's sightings, possibly thousands, are not read at all).
_STATE_OR_SIGHTINGS = (
    "SELECT state, NULL FROM inventory_suspectserial WHERE serial = %s UNION ALL "
    "SELECT NULL, mac_set FROM inventory_serialsighting WHERE serial = %s "
    "AND NOT EXISTS (SELECT 1 FROM inventory_suspectserial WHERE serial = %s)"
)


def serial_observe(*, serial: str | None, macs: list[str]) -> Observation:
    """Applies the rule to *serial* reported with *macs* (the submission's own, not shared,
    MACs), this sighting included. Call it inside the submission's transaction once it holds the
    serial's lock (`lock_identities`, as `_apply` does), before identifying; `serial_applied`
    then records the sighting in the same transaction, so the next holder of the lock sees it."""
    if not serial:
        return Observation(reported=None, identifies=False)
    key = mac_set_key(macs)
    with connection.cursor() as cursor:
        cursor.execute(_STATE_OR_SIGHTINGS, [serial, serial, serial])
        rows = cursor.fetchall()
    states = [state for state, _ in rows if state is not None]
    if states:
        identifies = states[0] not in PLACEHOLDER_SERIAL_STATES
        return Observation(reported=serial, identifies=identifies, mac_set=key)
    sets = {mac_set for _, mac_set in rows} | ({key} if key else set())
    machines = count_machines(s.split(",") for s in sets)
    if judge(machines=machines, threshold=threshold(), state=None) == SerialState.SUSPECT:
        _mark_suspect(serial, machines)
        return Observation(reported=serial, identifies=False, mac_set=key)
    return Observation(reported=serial, identifies=True, mac_set=key)


def _machines(serial: str) -> int:
    sets = SerialSighting.objects.filter(serial=serial).values_list("mac_set", flat=True)
    return count_machines(s.split(",") for s in sets)


def _mark_suspect(serial: str, machines: int) -> SuspectSerial:
    suspect = SuspectSerial.objects.create(
        serial=serial, state=SerialState.SUSPECT, machines=machines
    )
    flagged = _flag_merges(suspect)
    changes = {"state": [None, suspect.state], "machines": [None, machines]}
    if flagged:
        changes["flagged_submissions"] = [None, flagged]
    audit_record(
        actor=None,
        object_type="serial",
        object_id=suspect.pk,
        object_repr=serial,
        action=AuditAction.CREATED,
        changes=changes,
    )
    return suspect


def _flag_merges(suspect: SuspectSerial) -> list[int]:
    """Every accepted merge made through *suspect*'s serial becomes a conflict for a person, on
    the device it merged into; returns the submissions flagged."""
    merges = (
        SerialSighting.objects.filter(
            serial=suspect.serial,
            merge_submission__outcome=SubmissionOutcome.ACCEPTED,
            merge_submission__device__isnull=False,
        )
        .select_related("merge_submission__device")
        .order_by("merge_submission_id")
    )
    flagged = []
    for sighting in merges:
        entry = sighting.merge_submission
        message = (
            f"serial {suspect.serial!r} is reported by {suspect.machines} machines with "
            f"different MACs, so it is a placeholder; this submission replaced the MACs of "
            f"device {entry.device_id} ({', '.join(sighting.replaced_macs) or 'none'}) because "
            "only that serial matched: attach it (one machine, its NICs replaced) or make it a "
            "new device"
        )
        entry.outcome = SubmissionOutcome.CONFLICT
        entry.error = {
            "code": SUSPECT_MERGE,
            "field": "inventory_data.serial_number",
            "detail": message,
            "device_ids": [entry.device_id],
        }
        entry.conflict_device_ids = [entry.device_id]
        entry.save(update_fields=["outcome", "error", "conflict_device_ids"])
        history_add(
            device=entry.device,
            kind=HistoryKind.CONFLICT,
            note=f"submission #{entry.pk} merged into this device through a placeholder serial "
            "and waits for a person",
            submission=entry,
        )
        flagged.append(entry.pk)
    return flagged


def serial_applied(
    *,
    observation: Observation,
    device: Device,
    entry: Submission,
    replaced_macs: list[str] | None,
) -> None:
    """After the submission was applied to *device*: records the sighting (one upsert), with
    the device, and, when the serial alone found the device and the submission replaced its
    MACs (*replaced_macs*), the merge: the submission and the MACs it replaced."""
    if not observation.reported or not observation.mac_set:
        return
    merged = bool(replaced_macs) and observation.identifies
    row = SerialSighting(
        serial=observation.reported,
        mac_set=observation.mac_set,
        device=device,
        merge_submission=entry if merged else None,
        replaced_macs=sorted(replaced_macs) if merged else [],
    )
    update = ["last_seen", "device"] + (["merge_submission", "replaced_macs"] if merged else [])
    SerialSighting.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["serial", "mac_set"], update_fields=update
    )


def serial_merge_split(*, entry: Submission, new_device: Device, actor) -> None:
    """A person made a flagged merge a new device (*new_device*): its sighting follows, and the
    device it had merged into, left with no MACs of its own, gets back the MACs the merge
    replaced (those no other device holds now) and is flagged to be inventoried again."""
    sighting = SerialSighting.objects.filter(merge_submission=entry).first()
    old_id = (entry.conflict_device_ids or [None])[0]
    if sighting is None or old_id is None:
        return
    sighting.device = new_device
    sighting.save(update_fields=["device", "last_seen"])
    old = Device.objects.select_for_update(of=("self",)).filter(pk=old_id).first()
    if old is None or old.macs.filter(shared=False).exists():
        return
    before = device_snapshot(old)
    wanted = {text[-17:]: text[:-18] for text in sighting.replaced_macs}
    taken = set(
        DeviceMac.objects.filter(mac__in=wanted, shared=False).values_list("mac", flat=True)
    )
    DeviceMac.objects.bulk_create(
        DeviceMac(device=old, mac=mac, interface=iface) for mac, iface in wanted.items()
        if mac not in taken
    )  # fmt: skip
    old.flagged_for_inventory = True
    old.save(update_fields=["flagged_for_inventory", "updated_at"])
    history_add(
        device=old,
        kind=HistoryKind.MANUAL,
        changes=snapshot_diff(before, device_snapshot(old)),
        note=f"submission #{entry.pk} made a new device ({new_device.pk}): the MACs it had "
        "replaced are back, the device is flagged for re-inventory",
        submission=entry,
        actor=actor,
    )


# --- staff ---------------------------------------------------------------------------------------


@transaction.atomic
def serial_decide(*, suspect_id: int, decision: str, actor, note: str = "") -> SuspectSerial:
    """Staff confirm a suspect serial (a placeholder for good) or clear it (it identifies
    again); audited. Confirming a cleared serial flags the merges made while it was cleared."""
    require_staff(actor, "decide on suspect serials")
    if decision not in DECISIONS:
        raise ValidationFailed(
            [
                {
                    "field": "decision",
                    "code": "invalid_choice",
                    "message": f"{str(decision)[:40]!r} is not one of {', '.join(DECISIONS)}",
                }
            ]
        )
    found = SuspectSerial.objects.filter(pk=suspect_id).values_list("serial", flat=True).first()
    if found is None:
        raise NotFound("unknown_serial", f"no suspect serial {suspect_id}", field="id")
    # The serial's lock before its row, in the order a submission takes them (no deadlock).
    lock_identities([f"serial:{found}"])
    suspect = SuspectSerial.objects.select_for_update().get(pk=suspect_id)
    new_state = DECISIONS[decision]
    note = (note or "").strip()[:500]
    if suspect.state == new_state and suspect.note == note:
        return suspect
    before = {"state": suspect.state, "machines": suspect.machines, "note": suspect.note}
    suspect.state = new_state
    suspect.machines = _machines(suspect.serial)
    suspect.note = note
    suspect.decided_at = timezone.now()
    suspect.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    suspect.save()
    flagged = _flag_merges(suspect) if new_state == SerialState.CONFIRMED else []
    after = {"state": suspect.state, "machines": suspect.machines, "note": suspect.note}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if flagged:
        changes["flagged_submissions"] = [None, flagged]
    audit_record(
        actor=actor,
        object_type="serial",
        object_id=suspect.pk,
        object_repr=suspect.serial,
        action=AuditAction.UPDATED,
        changes=changes,
    )
    return suspect
