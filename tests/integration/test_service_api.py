"""The three documented service endpoints, through Django's full middleware stack."""

import json

import pytest

from inventory.models import Device, DeviceHistory, DeviceMac, DeviceRequest, Submission
from tests.conftest import DOC_MAC, DOC_SUBMIT
from tests.factories import DeviceFactory, DeviceMacFactory

pytestmark = pytest.mark.django_db

CHECK = "/api/inventory/check-mac"
SUBMIT = "/api/inventory/submit"
STATUS = "/api/inventory/update-status"


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CHECK, SUBMIT, STATUS])
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"X-Service-Api-Key": ""}, 401),
        ({"X-Service-Api-Key": "wrong"}, 401),
        ({"X-Service-Api-Key": "clé-ünïcode"}, 401),
    ],
    ids=["header missing", "empty", "wrong", "non-ascii"],
)
def test_service_endpoints_refuse_missing_or_wrong_key(client, path, headers, status):
    response = client.post(path, "{}", content_type="application/json", headers=headers)
    assert response.status_code == status
    assert response.json()["field"] == "X-Service-Api-Key"
    assert Submission.objects.count() == 0  # unauthenticated bytes are not ours to keep


@pytest.mark.parametrize("path", [CHECK, SUBMIT, STATUS])
def test_no_key_configured_refuses_every_call(client, settings, path):
    settings.DEVICE_LOOKUP_API_KEYS = ()
    response = client.post(
        path, json.dumps(DOC_SUBMIT), content_type="application/json",
        headers={"X-Service-Api-Key": "anything"},
    )  # fmt: skip
    assert response.status_code == 503
    assert response.json()["code"] == "service_key_not_configured"


def test_any_of_several_keys_is_accepted_for_rotation(client, settings, demo):
    settings.DEVICE_LOOKUP_API_KEYS = ("old-key", "new-key")
    for key in ("old-key", "new-key"):
        response = client.post(
            CHECK, json.dumps({"mac_address": DOC_MAC}), content_type="application/json",
            headers={"X-Service-Api-Key": key},
        )  # fmt: skip
        assert response.status_code == 200


def test_api_is_not_redirected_to_login(client):
    response = client.post(CHECK, "{}", content_type="application/json")
    assert response.status_code == 401  # not a 302 to the portal's login page


# --- check-mac ---------------------------------------------------------------------------------


def test_check_mac_documentation_example(device_client, demo):
    response = device_client.post(CHECK, {"mac_address": "00:e0:4c:92:f7:a4"})
    assert response.status_code == 200
    assert response.json() == {
        "needs_inventory": True,
        "device_id": None,
        "organization": "Demo Org",
    }


def test_check_mac_accepts_any_form(device_client, demo):
    response = device_client.post(CHECK, {"mac_address": "00-E0-4C-92-F7-A4"})
    assert response.json()["needs_inventory"] is True


def test_check_mac_unknown_mac(device_client, demo):
    response = device_client.post(CHECK, {"mac_address": "02:00:00:00:00:99"})
    assert response.json() == {"needs_inventory": False, "device_id": None, "organization": None}


def test_check_mac_unknown_mac_with_discovery(device_client, demo, settings):
    settings.ARROW_DISCOVER_UNKNOWN = True
    response = device_client.post(CHECK, {"mac_address": "02:00:00:00:00:99"})
    assert response.json()["needs_inventory"] is True


@pytest.mark.parametrize("body", [{"mac_address": "nope"}, {"mac_address": 5}, {}, {"mac": "x"}])
def test_check_mac_invalid_mac_names_the_field(device_client, body):
    response = device_client.post(CHECK, body)
    assert response.status_code == 400
    assert response.json()["field"] == "mac_address"


def test_check_mac_inventoried_device_needs_nothing(device_client, demo):
    device_client.post(SUBMIT, DOC_SUBMIT)
    response = device_client.post(CHECK, {"mac_address": DOC_MAC})
    device = Device.objects.get()
    assert response.json() == {
        "needs_inventory": False,
        "device_id": device.pk,
        "organization": "Demo Org",
    }


def test_check_mac_for_shared_mac_never_matches_a_device(device_client, demo):
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["mac_address"].append("wwan0:00:a0:c6:00:00:00")
    device_client.post(SUBMIT, body)
    response = device_client.post(CHECK, {"mac_address": "00:a0:c6:00:00:00"})
    assert response.json()["device_id"] is None


# --- submit ------------------------------------------------------------------------------------


def test_submit_documentation_example_creates_the_device(device_client, demo):
    response = device_client.post(SUBMIT, DOC_SUBMIT)
    assert response.status_code == 200, response.content
    out = response.json()
    device = Device.objects.get()
    assert out["device_id"] == device.pk
    assert out["status"] == "newly_inventoried"
    assert out["device_spec"] == "Intel NUC 11 Pro"
    assert out["organization"] == "Demo Org"
    assert out["imaging_status"] == "ready_for_imaging"
    assert sorted(str(m) for m in device.macs.all()) == [
        "eth0:00:e0:4c:92:f7:a4",
        "wlo1:08:bf:b8:c0:c5:83",
    ]
    assert device.serial_number == "ABC123XYZ"
    assert device.imei == "123456789012345"
    assert any("Luhn" in w for w in device.warnings)
    assert DeviceRequest.objects.get().status == "inventoried"
    entry = Submission.objects.get()
    assert entry.outcome == "accepted"
    assert json.loads(bytes(entry.body)) == DOC_SUBMIT


def test_submit_same_body_twice_changes_nothing_but_journal_and_history(device_client, demo):
    device_client.post(SUBMIT, DOC_SUBMIT)
    device = Device.objects.get()
    second = device_client.post(SUBMIT, DOC_SUBMIT).json()
    again = Device.objects.get()
    assert second["status"] == "newly_inventoried"
    assert again.updated_at == device.updated_at
    assert Submission.objects.filter(outcome="accepted").count() == 2
    assert list(DeviceHistory.objects.values_list("kind", flat=True).order_by("id")) == [
        "inventory",
        "no_change",
    ]


def test_submit_changed_facts_update_the_device_and_record_the_change(device_client, demo):
    device_client.post(SUBMIT, DOC_SUBMIT)
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["mac_address"] = ["eth0:00:e0:4c:92:f7:a4", "eth1:00:e0:4c:92:f7:b0"]
    body["inventory_data"]["has_modem"] = False
    body["inventory_data"]["imei"] = None
    out = device_client.post(SUBMIT, body).json()
    assert out["status"] == "updated_via_inventory"
    entry = DeviceHistory.objects.order_by("-id").first()
    assert entry.changes["has_modem"] == [True, False]
    assert entry.changes["macs"][1] == ["eth0:00:e0:4c:92:f7:a4", "eth1:00:e0:4c:92:f7:b0"]
    assert DeviceMac.objects.filter(mac="08:bf:b8:c0:c5:83").count() == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "body"),
        (b'{"inventory_data": {"mac_address": ["eth0:bad"]}}', "inventory_data.mac_address[0]"),
        (b'{"inventory_data": {"mac_address": []}}', "inventory_data.mac_address"),
        (b'{"inventory_data": {"mac_address": ["00:e0:4c:92:f7:a4"], "imei": "1"}}',
         "inventory_data.imei"),
        (b'{"something": 1}', "inventory_data"),
    ],
)  # fmt: skip
def test_submission_with_bad_input_is_journaled_and_rejected(device_client, demo, raw, field):
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 400
    assert response.json()["field"] == field
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert bytes(entry.body) == raw
    assert entry.error["field"] == field
    assert Device.objects.count() == 0
    assert DeviceRequest.objects.get().status == "pending"


def test_journal_keeps_headers_but_never_the_key(device_client, demo, service_key):
    device_client.post(SUBMIT, DOC_SUBMIT, headers={"User-Agent": "arrow-agent/0.1"})
    entry = Submission.objects.get()
    assert entry.headers["User-Agent"] == "arrow-agent/0.1"
    assert service_key not in json.dumps(entry.headers)
    assert entry.credential == "service_key"


def test_macs_of_one_device_and_serial_of_another_is_a_conflict(device_client, demo):
    a = DeviceMacFactory(mac="00:e0:4c:92:f7:a4").device
    b = DeviceFactory(serial_number="ABC123XYZ")
    response = device_client.post(SUBMIT, DOC_SUBMIT)
    assert response.status_code == 409
    assert set(response.json()["device_ids"]) == {a.pk, b.pk}
    entry = Submission.objects.get()
    assert entry.outcome == "conflict"
    assert set(entry.conflict_device_ids) == {a.pk, b.pk}
    assert Device.objects.count() == 2


def test_macs_of_two_devices_is_a_conflict(device_client, demo):
    DeviceMacFactory(mac="00:e0:4c:92:f7:a4")
    DeviceMacFactory(mac="08:bf:b8:c0:c5:83")
    response = device_client.post(SUBMIT, DOC_SUBMIT)
    assert response.status_code == 409
    assert response.json()["code"] == "mac_conflict"


def test_device_found_by_serial_when_macs_are_new(device_client, demo):
    device = DeviceFactory(serial_number="ABC123XYZ")
    DeviceMacFactory(device=device, mac="02:00:00:00:aa:01")
    out = device_client.post(SUBMIT, DOC_SUBMIT).json()
    assert out["device_id"] == device.pk
    assert out["status"] == "updated_via_inventory"
    assert not DeviceMac.objects.filter(mac="02:00:00:00:aa:01").exists()


def test_placeholder_serial_never_finds_nor_overwrites(device_client, demo):
    device_client.post(SUBMIT, DOC_SUBMIT)
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["serial_number"] = "To Be Filled By O.E.M."
    device_client.post(SUBMIT, body)
    device = Device.objects.get()
    assert device.serial_number == "ABC123XYZ"
    assert "kept serial" in DeviceHistory.objects.order_by("-id").first().note

    other = {"inventory_data": {"mac_address": ["eth0:02:00:00:00:bb:01"],
                                "serial_number": "To Be Filled By O.E.M."}}  # fmt: skip
    out = device_client.post(SUBMIT, other).json()
    assert out["device_id"] != device.pk
    assert Device.objects.get(pk=out["device_id"]).serial_number is None


def test_unknown_spec_keeps_the_reported_name(device_client, demo):
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["device_spec"] = "Mystery Box 3000"
    out = device_client.post(SUBMIT, body).json()
    assert out["device_spec"] is None
    assert Device.objects.get().reported_spec == "Mystery Box 3000"


def test_spec_matched_by_pattern(device_client, demo):
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["device_spec"] = "Intel(R) Client Systems NUC11TNHi5"
    assert device_client.post(SUBMIT, body).json()["device_spec"] == "Intel NUC 11 Pro"


def test_quick_added_device_becomes_updated_via_inventory(device_client, demo):
    from inventory.services.devices import device_quick_add

    device = device_quick_add(mac_address="08-BF-B8-C0-C5-83", organization="Demo Org")
    assert device_client.post(CHECK, {"mac_address": "08:bf:b8:c0:c5:83"}).json()["needs_inventory"]
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["mac_address"] = ["wlo1:08:bf:b8:c0:c5:83"]
    out = device_client.post(SUBMIT, body).json()
    assert out["device_id"] == device.pk
    assert out["status"] == "updated_via_inventory"
    device.refresh_from_db()
    assert device.flagged_for_inventory is False
    assert device.organization.name == "Demo Org"


# --- update-status -----------------------------------------------------------------------------


def test_update_status_documentation_example_shape(device_client):
    a, b = DeviceFactory(), DeviceFactory()
    response = device_client.post(STATUS, {"device_ids": [a.pk, b.pk], "new_status": "processed"})
    assert response.status_code == 200
    assert response.json() == {"updated": [a.pk, b.pk], "new_status": "processed"}
    assert set(Device.objects.values_list("inventory_status", flat=True)) == {"processed"}


def test_update_status_documentation_example_verbatim_names_unknown_ids(device_client):
    body = {"device_ids": ["device_id_1", "device_id_2"], "new_status": "processed"}
    response = device_client.post(STATUS, body)
    assert response.status_code == 404
    assert response.json()["missing"] == ["device_id_1", "device_id_2"]


def test_update_status_is_all_or_nothing(device_client):
    a = DeviceFactory()
    response = device_client.post(
        STATUS, {"device_ids": [a.pk, "dev-missing"], "new_status": "reviewed"}
    )
    assert response.status_code == 404
    assert response.json()["field"] == "device_ids"
    assert response.json()["missing"] == ["dev-missing"]
    a.refresh_from_db()
    assert a.inventory_status == "newly_inventoried"


@pytest.mark.parametrize("status", ["done", "newly_inventoried", "", None])
def test_update_status_unknown_status(device_client, status):
    a = DeviceFactory()
    response = device_client.post(STATUS, {"device_ids": [a.pk], "new_status": status})
    assert response.status_code == 400
    assert response.json()["field"] == "new_status"
    a.refresh_from_db()
    assert a.inventory_status == "newly_inventoried"


def test_update_status_is_one_update_for_any_number_of_devices(
    device_client, django_assert_max_num_queries
):
    few = [DeviceFactory().pk for _ in range(1)]
    many = [DeviceFactory().pk for _ in range(50)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            device_client.post(STATUS, {"device_ids": ids, "new_status": "assigned"})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
