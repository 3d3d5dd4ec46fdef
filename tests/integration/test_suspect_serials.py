"""Fleet-wide junk serials through the real submit endpoint: a serial that machines with
disjoint MAC sets report stops identifying devices, its merges wait for a person, staff decide."""

import pytest

from inventory.models import (
    AuditEntry,
    Device,
    DeviceHistory,
    SerialSighting,
    Submission,
    SuspectSerial,
)
from inventory.services.serials import serial_decide
from inventory.services.submission import submission_resolve

pytestmark = pytest.mark.django_db

SUBMIT = "/api/inventory/submit"
SERIAL = "MXL7281Q2K"  # looks real: no placeholder rule can tell it is shared


def machine(i: int, *extra: int) -> list[str]:
    """Machine *i*'s MACs (with *extra* NICs numbered after it)."""
    return [f"eth{n}:02:5e:00:00:{i:02x}:{n:02x}" for n in (0, *extra)]


def post(device_client, macs, serial=SERIAL, name=None):
    body = {"inventory_data": {"mac_address": macs, "serial_number": serial}}
    if name:
        body["inventory_data"]["device_name"] = name
    response = device_client.post(SUBMIT, body)
    assert response.status_code == 200, response.json()
    return response.json()


def device_macs(device_id: str) -> set[str]:
    return set(Device.objects.get(pk=device_id).macs.values_list("mac", flat=True))


def test_two_machines_with_one_serial_are_merged_as_before(device_client):
    first = post(device_client, machine(1))
    second = post(device_client, machine(2))
    assert second["device_id"] == first["device_id"]
    assert second["status"] == "updated_via_inventory"
    assert not SuspectSerial.objects.exists()
    assert SerialSighting.objects.filter(serial=SERIAL).count() == 2


def test_a_third_machine_makes_the_serial_suspect_and_its_merge_a_conflict(device_client):
    first = post(device_client, machine(1))
    merged = post(device_client, machine(2))
    third = post(device_client, machine(3))
    assert third["device_id"] != first["device_id"]
    assert third["status"] == "newly_inventoried"
    assert any("suspect placeholder" in w for w in third["warnings"])
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    assert (suspect.state, suspect.machines) == ("suspect", 3)
    entry = Submission.objects.get(pk=merged["submission_id"])
    assert entry.outcome == "conflict"
    assert entry.error["code"] == "suspect_serial_merge"
    assert entry.error["field"] == "inventory_data.serial_number"
    assert entry.conflict_device_ids == [first["device_id"]]
    assert DeviceHistory.objects.filter(device_id=first["device_id"], kind="conflict").exists()
    audit = AuditEntry.objects.get(object_type="serial", object_id=str(suspect.pk))
    assert audit.changes["flagged_submissions"] == [None, [merged["submission_id"]]]
    assert audit.actor is None


def test_a_suspect_serial_no_longer_identifies_devices_found_by_mac_only(device_client):
    first = post(device_client, machine(1))
    post(device_client, machine(2))
    post(device_client, machine(3))
    fourth = post(device_client, machine(4))
    again = post(device_client, machine(2), name="second-again")
    assert again["device_id"] == first["device_id"]  # by its MACs, which the merge gave it
    assert fourth["device_id"] not in (first["device_id"],)
    assert device_macs(fourth["device_id"]) == {m.split(":", 1)[1] for m in machine(4)}
    assert Device.objects.count() == 3
    # Machine 1, whose MACs the merge replaced, is now a device of its own.
    back = post(device_client, machine(1))
    assert back["device_id"] not in (first["device_id"], fourth["device_id"])
    assert Device.objects.count() == 4


def test_mac_sets_that_share_a_mac_are_one_machine(device_client):
    # One machine whose NICs are replaced one at a time: never a suspect.
    ids = {post(device_client, macs)["device_id"] for macs in (
        ["eth0:02:5e:00:00:01:00", "eth1:02:5e:00:00:01:01"],
        ["eth1:02:5e:00:00:01:01", "eth2:02:5e:00:00:01:02"],
        ["eth2:02:5e:00:00:01:02", "eth3:02:5e:00:00:01:03"],
        ["eth3:02:5e:00:00:01:03", "eth0:02:5e:00:00:01:00"],
    )}  # fmt: skip
    assert len(ids) == 1
    assert SerialSighting.objects.count() == 4
    assert not SuspectSerial.objects.exists()


def test_the_same_macs_in_another_order_are_one_sighting(device_client):
    post(device_client, machine(1, 1))
    post(device_client, list(reversed(machine(1, 1))))
    assert SerialSighting.objects.count() == 1


def test_the_threshold_is_a_setting(device_client, settings):
    settings.ARROW_SUSPECT_SERIAL_MAC_SETS = 2
    first = post(device_client, machine(1))
    second = post(device_client, machine(2))
    assert second["device_id"] != first["device_id"]
    assert SuspectSerial.objects.get(serial=SERIAL).state == "suspect"
    assert not Submission.objects.filter(outcome="conflict").exists()  # nothing was merged


def test_another_serial_is_not_touched(device_client):
    post(device_client, machine(1))
    post(device_client, machine(2))
    post(device_client, machine(3))
    one = post(device_client, machine(10), serial="G6TN1001")
    two = post(device_client, machine(11), serial="G6TN1001")
    assert one["device_id"] == two["device_id"]


def test_resolving_a_flagged_merge_as_a_new_device_gives_the_old_device_its_macs_back(
    device_client, staff_user
):
    first = post(device_client, machine(1))
    merged = post(device_client, machine(2))
    third = post(device_client, machine(3))
    result = submission_resolve(
        submission_id=merged["submission_id"], action="create", actor=staff_user
    )
    assert result.device_id not in (first["device_id"], third["device_id"])
    assert device_macs(result.device_id) == {m.split(":", 1)[1] for m in machine(2)}
    old = Device.objects.get(pk=first["device_id"])
    assert device_macs(old.pk) == {m.split(":", 1)[1] for m in machine(1)}
    assert old.flagged_for_inventory
    # The suspect state stays coherent: still suspect, every device keeps the serial it reports,
    # the sighting follows the new device, and nothing is flagged again.
    assert SuspectSerial.objects.get(serial=SERIAL).state == "suspect"
    assert set(Device.objects.values_list("serial_number", flat=True)) == {SERIAL}
    sighting = SerialSighting.objects.get(merge_submission_id=merged["submission_id"])
    assert sighting.device_id == result.device_id
    assert Submission.objects.get(pk=merged["submission_id"]).outcome == "resolved"
    post(device_client, machine(4))
    assert not Submission.objects.filter(outcome="conflict").exists()
    # Machine 1 boots again: its device is found by the MACs it got back.
    assert post(device_client, machine(1))["device_id"] == old.pk
    assert Device.objects.count() == 4


def test_resolving_a_flagged_merge_by_attach_keeps_the_device(device_client, staff_user):
    first = post(device_client, machine(1))
    merged = post(device_client, machine(2))
    post(device_client, machine(3))
    result = submission_resolve(
        submission_id=merged["submission_id"],
        action="attach",
        device_id=first["device_id"],
        actor=staff_user,
    )
    assert result.device_id == first["device_id"]
    assert device_macs(first["device_id"]) == {m.split(":", 1)[1] for m in machine(2)}
    assert set(Device.objects.values_list("serial_number", flat=True)) == {SERIAL}
    assert Device.objects.count() == 2


def test_a_cleared_serial_identifies_again(device_client, staff_user):
    post(device_client, machine(1))
    post(device_client, machine(2))
    post(device_client, machine(3))
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    serial_decide(suspect_id=suspect.pk, decision="clear", actor=staff_user, note="real")
    suspect.refresh_from_db()
    assert (suspect.state, suspect.decided_by, suspect.note) == ("cleared", staff_user, "real")
    # Two devices hold it (the merged one and the third): identifying by it again is a
    # conflict for a person, never a silent merge.
    response = device_client.post(
        SUBMIT, {"inventory_data": {"mac_address": machine(4), "serial_number": SERIAL}}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "serial_conflict"
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "cleared"


def test_confirming_a_cleared_serial_flags_the_merges_made_meanwhile(device_client, staff_user):
    from inventory.services.devices import device_update

    first = post(device_client, machine(1))
    merged = post(device_client, machine(2))
    third = post(device_client, machine(3))
    submission_resolve(
        submission_id=merged["submission_id"], action="attach", device_id=first["device_id"],
        actor=staff_user,
    )  # fmt: skip
    device_update(device_id=first["device_id"], serial_number="MXL0000001", actor=staff_user)
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    serial_decide(suspect_id=suspect.pk, decision="clear", actor=staff_user)
    # Machine 3's mainboard is replaced: new MACs, same serial, found by the serial again.
    swapped = post(device_client, machine(30))
    assert swapped["device_id"] == third["device_id"]
    serial_decide(suspect_id=suspect.pk, decision="confirm", actor=staff_user)
    entry = Submission.objects.get(pk=swapped["submission_id"])
    assert entry.outcome == "conflict"
    assert entry.conflict_device_ids == [third["device_id"]]
    audit = list(AuditEntry.objects.filter(object_type="serial").order_by("id"))
    assert [a.changes["state"] for a in audit] == [
        [None, "suspect"], ["suspect", "cleared"], ["cleared", "confirmed"],
    ]  # fmt: skip
    assert audit[2].changes["flagged_submissions"] == [None, [swapped["submission_id"]]]
    assert audit[1].actor == staff_user


def test_deciding_twice_the_same_way_writes_nothing(device_client, staff_user):
    for i in (1, 2, 3):
        post(device_client, machine(i))
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    serial_decide(suspect_id=suspect.pk, decision="confirm", actor=staff_user)
    serial_decide(suspect_id=suspect.pk, decision="confirm", actor=staff_user)
    assert AuditEntry.objects.filter(object_type="serial").count() == 2


@pytest.mark.parametrize(
    ("decision", "code", "field"),
    [("maybe", "invalid_choice", "decision"), ("", "invalid_choice", "decision")],
    ids=["an unknown decision", "an empty decision"],
)
def test_a_bad_decision_names_the_field_and_changes_nothing(
    device_client, staff_user, decision, code, field
):
    from inventory.errors import InventoryError

    for i in (1, 2, 3):
        post(device_client, machine(i))
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    with pytest.raises(InventoryError) as caught:
        serial_decide(suspect_id=suspect.pk, decision=decision, actor=staff_user)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"


def test_only_staff_decide(device_client, django_user_model):
    from inventory.errors import Forbidden

    for i in (1, 2, 3):
        post(device_client, machine(i))
    member = django_user_model.objects.create_user("member", password="pw-member-1")
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    with pytest.raises(Forbidden):
        serial_decide(suspect_id=suspect.pk, decision="clear", actor=member)
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"


GOBI = "wwan0:00:a0:c6:00:00:00"  # every Qualcomm Gobi modem reports this address (shared)


def test_a_shared_mac_neither_makes_a_sighting_nor_joins_machines(device_client):
    post(device_client, [GOBI])
    assert not SerialSighting.objects.exists()
    for i in (1, 2, 3):
        post(device_client, [*machine(i), GOBI])
    assert "00:a0:c6:00:00:00" not in SerialSighting.objects.values_list("mac_set", flat=True)[0]
    assert SuspectSerial.objects.get(serial=SERIAL).machines == 3


@pytest.mark.parametrize("value", ["1", "0", "three", ""], ids=["one", "zero", "a word", "empty"])
def test_a_threshold_below_two_or_not_a_number_stops_the_server_at_start(value):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {"ARROW_SUSPECT_SERIAL_MAC_SETS": value, "PATH": "/usr/bin:/bin", "PYTHONPATH": "agent"}
    out = subprocess.run(
        [sys.executable, "-c", "import arrow.settings"],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0
    assert "ARROW_SUSPECT_SERIAL_MAC_SETS must be a whole number of at least 2" in out.stderr
