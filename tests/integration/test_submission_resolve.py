"""submission_resolve: a person attaches a conflicting submission to a device or makes a new one."""

import contextlib
import json

import pytest

from inventory.choices import HistoryKind, SubmissionOutcome
from inventory.errors import Conflict, InventoryError, NotFound, ValidationFailed
from inventory.models import AuditEntry, Device, DeviceHistory, DeviceMac, Submission
from inventory.services.submission import (
    submission_process,
    submission_record,
    submission_resolve,
)
from tests.factories import DeviceFactory, DeviceMacFactory

pytestmark = pytest.mark.django_db

MAC = "02:aa:10:00:00:01"
SERIAL = "SERIAL-OF-B"


def _submit(body: dict) -> Submission:
    entry = submission_record(
        raw=json.dumps(body).encode(), headers={}, remote_addr="127.0.0.1", credential="test"
    )
    with contextlib.suppress(InventoryError):
        submission_process(entry=entry)
    entry.refresh_from_db()
    return entry


@pytest.fixture
def conflict(db):
    """Device A owns MAC, device B owns SERIAL; a submission reports both: identity conflict."""
    a = DeviceFactory(name="A", serial_number="SERIAL-OF-A")
    DeviceMacFactory(device=a, mac=MAC, interface="eth0")
    b = DeviceFactory(name="B", serial_number=SERIAL)
    entry = _submit(
        {
            "inventory_data": {
                "mac_address": [f"eth0:{MAC}"],
                "device_name": "REAL-NAME",
                "serial_number": SERIAL,
                "sn_source": "dmidecode",
            }
        }
    )
    assert entry.outcome == SubmissionOutcome.CONFLICT
    assert entry.conflict_device_ids == [a.pk, b.pk]
    return {"a": a, "b": b, "entry": entry}


def test_attach_to_the_mac_owner_takes_the_serial_from_the_other_device(conflict, staff_user):
    a, b, entry = conflict["a"], conflict["b"], conflict["entry"]
    result = submission_resolve(
        submission_id=entry.pk, action="attach", device_id=a.pk, actor=staff_user
    )
    assert result.device_id == a.pk
    a.refresh_from_db()
    b.refresh_from_db()
    entry.refresh_from_db()
    assert a.serial_number == SERIAL
    assert b.serial_number is None
    assert entry.outcome == SubmissionOutcome.RESOLVED
    assert entry.resolved_by == staff_user
    assert entry.device_id == a.pk
    assert entry.error["code"] == "identity_conflict"  # why a person had to decide stays visible
    inventory = DeviceHistory.objects.get(device=a, kind=HistoryKind.INVENTORY)
    assert inventory.actor == staff_user
    assert inventory.changes["serial_number"] == ["SERIAL-OF-A", SERIAL]
    gave_up = DeviceHistory.objects.get(device=b, kind=HistoryKind.MANUAL)
    assert gave_up.changes["serial_number"] == [SERIAL, None]
    assert gave_up.actor == staff_user


def test_attach_to_the_serial_owner_moves_the_mac(conflict, staff_user):
    a, b, entry = conflict["a"], conflict["b"], conflict["entry"]
    submission_resolve(submission_id=entry.pk, action="attach", device_id=b.pk, actor=staff_user)
    assert DeviceMac.objects.get(mac=MAC).device_id == b.pk
    assert not DeviceMac.objects.filter(device=a).exists()
    assert DeviceHistory.objects.get(device=a, kind=HistoryKind.MANUAL).changes["macs"] == [
        [f"eth0:{MAC}"],
        [],
    ]


def test_create_makes_a_new_device_with_both_identities(conflict, staff_user):
    a, b, entry = conflict["a"], conflict["b"], conflict["entry"]
    result = submission_resolve(submission_id=entry.pk, action="create", actor=staff_user)
    assert result.device_id not in (a.pk, b.pk)
    new = Device.objects.get(pk=result.device_id)
    assert new.serial_number == SERIAL
    assert list(new.macs.values_list("mac", flat=True)) == [MAC]
    assert Device.objects.get(pk=b.pk).serial_number is None
    history = DeviceHistory.objects.filter(device=a, kind=HistoryKind.MANUAL).get()
    assert result.device_id in history.note


def test_the_same_body_submitted_again_after_resolution_is_not_a_conflict(conflict, staff_user):
    a, entry = conflict["a"], conflict["entry"]
    submission_resolve(submission_id=entry.pk, action="attach", device_id=a.pk, actor=staff_user)
    again = _submit(json.loads(bytes(entry.body)))
    assert again.outcome == SubmissionOutcome.ACCEPTED
    assert again.device_id == a.pk


def test_resolution_is_audited_with_the_actor(conflict, staff_user):
    entry = conflict["entry"]
    submission_resolve(submission_id=entry.pk, action="create", actor=staff_user)
    audit = AuditEntry.objects.get(object_type="submission", object_id=str(entry.pk))
    assert audit.actor == staff_user
    assert audit.action == "resolved"
    assert audit.changes["outcome"] == ["conflict", "resolved"]


def test_attach_to_a_device_outside_the_conflict_is_refused(conflict, staff_user):
    other = DeviceFactory()
    with pytest.raises(InventoryError) as caught:
        submission_resolve(
            submission_id=conflict["entry"].pk, action="attach", device_id=other.pk, actor=None
        )
    assert (caught.value.code, caught.value.field) == ("not_a_candidate", "device_id")
    conflict["entry"].refresh_from_db()
    assert conflict["entry"].outcome == SubmissionOutcome.CONFLICT


def test_resolving_twice_is_refused(conflict, staff_user):
    entry = conflict["entry"]
    submission_resolve(submission_id=entry.pk, action="create", actor=staff_user)
    with pytest.raises(InventoryError) as caught:
        submission_resolve(submission_id=entry.pk, action="create", actor=staff_user)
    assert (caught.value.code, caught.value.field) == ("not_a_conflict", "submission_id")


def test_a_rejected_submission_cannot_be_resolved(db):
    entry = _submit({"inventory_data": {"mac_address": ["not-a-mac"]}})
    assert entry.outcome == SubmissionOutcome.REJECTED
    with pytest.raises(InventoryError) as caught:
        submission_resolve(submission_id=entry.pk, action="create")
    assert caught.value.code == "not_a_conflict"


def test_unknown_action_and_unknown_submission(conflict):
    with pytest.raises(ValidationFailed) as caught:
        submission_resolve(submission_id=conflict["entry"].pk, action="merge")
    assert caught.value.field == "action"
    with pytest.raises(NotFound) as missing:
        submission_resolve(submission_id=999999, action="create")
    assert (missing.value.code, missing.value.field) == ("unknown_submission", "submission_id")


def test_mac_conflict_attach_takes_the_macs_from_the_other_device(staff_user):
    a = DeviceFactory()
    b = DeviceFactory()
    DeviceMacFactory(device=a, mac="02:aa:10:00:00:0a")
    DeviceMacFactory(device=b, mac="02:aa:10:00:00:0b")
    entry = _submit(
        {"inventory_data": {"mac_address": ["eth0:02:aa:10:00:00:0a", "eth1:02:aa:10:00:00:0b"]}}
    )
    assert entry.error["code"] == "mac_conflict"
    submission_resolve(submission_id=entry.pk, action="attach", device_id=a.pk, actor=staff_user)
    assert set(DeviceMac.objects.filter(device=a).values_list("mac", flat=True)) == {
        "02:aa:10:00:00:0a",
        "02:aa:10:00:00:0b",
    }
    assert not DeviceMac.objects.filter(device=b).exists()


def test_conflict_detection_still_raises_without_a_placement(conflict):
    with pytest.raises(Conflict):
        submission_process(entry=conflict["entry"])
