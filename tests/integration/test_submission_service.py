"""The submission service without HTTP: journal first, then judge; error codes and fields."""

import json

import pytest

from inventory.errors import Conflict, ValidationFailed
from inventory.models import Device, DeviceHistory, Submission
from inventory.services.submission import submission_process, submission_record
from tests.conftest import DOC_SUBMIT
from tests.factories import DeviceFactory, DeviceMacFactory

pytestmark = pytest.mark.django_db


def journal(body) -> Submission:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return submission_record(
        raw=raw,
        headers={"X-Service-Api-Key": "secret", "User-Agent": "agent", "Cookie": "x"},
        remote_addr="192.0.2.7",
        credential="service_key",
    )


def test_record_strips_credentials_and_keeps_the_bytes():
    entry = journal(b"\x00\xffnot json")
    assert bytes(entry.body) == b"\x00\xffnot json"
    assert entry.headers == {"User-Agent": "agent"}
    assert entry.outcome == "received"


def test_rejection_is_marked_with_code_and_field(demo):
    entry = journal({"inventory_data": {"mac_address": ["eth0:00:e0:4c:92:f7:a4"], "imei": "x"}})
    with pytest.raises(ValidationFailed) as err:
        submission_process(entry=entry)
    assert (err.value.code, err.value.field) == ("invalid_imei", "inventory_data.imei")
    entry.refresh_from_db()
    assert entry.outcome == "rejected"
    assert entry.error["field"] == "inventory_data.imei"


def test_conflict_names_both_devices_and_changes_nothing(demo):
    a = DeviceMacFactory(mac="00:e0:4c:92:f7:a4").device
    b = DeviceFactory(serial_number="ABC123XYZ")
    entry = journal(DOC_SUBMIT)
    with pytest.raises(Conflict) as err:
        submission_process(entry=entry)
    assert err.value.code == "identity_conflict"
    assert err.value.extra["device_ids"] == [a.pk, b.pk]
    a.refresh_from_db()
    assert a.serial_number != "ABC123XYZ"
    assert DeviceHistory.objects.count() == 0


def test_accepted_submission_links_journal_history_and_device(demo):
    entry = journal(DOC_SUBMIT)
    result = submission_process(entry=entry)
    entry.refresh_from_db()
    device = Device.objects.get()
    assert entry.outcome == "accepted"
    assert entry.device == device
    assert device.history.get().submission == entry
    assert result.changed is True
    assert result.imaging_status == "ready_for_imaging"


def test_admin_status_then_changed_inventory_sets_updated_via_inventory(demo):
    submission_process(entry=journal(DOC_SUBMIT))
    Device.objects.update(inventory_status="processed")
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["device_name"] = "PVE-9999"
    result = submission_process(entry=journal(body))
    assert result.status == "updated_via_inventory"


def test_imaged_device_is_not_sent_back_to_imaging_by_reinventory(demo):
    submission_process(entry=journal(DOC_SUBMIT))
    Device.objects.update(imaging_status="imaged")
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["has_modem"] = False
    assert submission_process(entry=journal(body)).imaging_status == "imaged"


def test_shared_mac_is_kept_for_reference_but_does_not_identify(demo):
    body = {"inventory_data": {"mac_address": ["usb0:00:a0:c6:00:00:00", "eth0:02:00:00:00:42:01"]}}
    first = submission_process(entry=journal(body))
    other = {
        "inventory_data": {"mac_address": ["usb0:00:a0:c6:00:00:00", "eth0:02:00:00:00:42:02"]}
    }
    second = submission_process(entry=journal(other))
    assert first.device_id != second.device_id
    shared = Device.objects.get(pk=first.device_id).macs.get(mac="00:a0:c6:00:00:00")
    assert shared.shared is True


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/inventory/check-mac",
        "/api/inventory/submit",
        "/api/inventory/update-status",
    } <= set(paths)
    assert "requestBody" in paths["/api/inventory/submit"]["post"]
    assert client.get("/api/docs").status_code == 200


def _with_hardware(**hardware) -> dict:
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["hardware"] = {
        "agent_version": "0.1.0",
        "memory_bytes": 16 * 2**30,
        "disks": [{"name": "nvme0n1", "serial": "S4EWNX0R"}],
        "collection_errors": [],
        **hardware,
    }
    return body


def test_a_hardware_only_change_is_stored_and_recorded(demo):
    submission_process(entry=journal(_with_hardware()))
    upgraded = _with_hardware(
        memory_bytes=32 * 2**30, disks=[{"name": "nvme0n1", "serial": "S5GXNG0N"}]
    )
    result = submission_process(entry=journal(upgraded))
    assert result.changed is True
    device = Device.objects.get()
    assert device.hardware["memory_bytes"] == 32 * 2**30
    assert device.inventory_status == "updated_via_inventory"
    changes = device.history.filter(kind="inventory").latest("created_at").changes
    assert changes["memory"] == ["16 GiB", "32 GiB"]
    assert changes["disk nvme0n1"] == ["S4EWNX0R", "S5GXNG0N"]
    again = submission_process(entry=journal(upgraded))
    assert again.changed is False  # identical re-submission: no change
    assert device.history.filter(kind="no_change").count() == 1
