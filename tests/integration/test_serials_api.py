"""The admin API of suspect serials: GET /api/serials?state= and POST /api/serials/{id}/decide."""

import pytest

from inventory.auth import api_token_create
from inventory.models import AuditEntry, SuspectSerial
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db

SERIAL = "MXL7281Q2K"


def machine(i: int) -> list[str]:
    return [f"eth0:02:5e:00:00:{i:02x}:00"]


@pytest.fixture
def suspect(device_client):
    """MXL7281Q2K reported by three machines: suspect, with the second one's merge flagged."""
    for i in (1, 2, 3):
        body = {"inventory_data": {"mac_address": machine(i), "serial_number": SERIAL}}
        assert device_client.post("/api/inventory/submit", body).status_code == 200
    return SuspectSerial.objects.get(serial=SERIAL)


@pytest.fixture
def member_api(client, django_user_model):
    """A non-staff user's Bearer token."""
    user = django_user_model.objects.create_user("member", password="pw-member-1")
    return JsonClient(client, {"Authorization": f"Bearer {api_token_create(user=user)}"})


def test_the_list_shows_each_suspect_serial_with_its_mac_sets(admin_client, suspect):
    response = admin_client.get("/api/serials")
    assert response.status_code == 200
    (out,) = response.json()
    assert out["id"] == suspect.pk
    assert (out["serial"], out["state"], out["machines"], out["devices"]) == (
        SERIAL,
        "suspect",
        3,
        2,
    )
    assert [s["macs"] for s in out["sightings"]] == [[m.split(":", 1)[1]] for i in (1, 2, 3)
                                                      for m in machine(i)]  # fmt: skip
    assert all(s["device_id"].startswith("dev-") for s in out["sightings"])
    assert len(out["open_conflicts"]) == 1
    assert out["sightings"][1]["merge_submission_id"] == out["open_conflicts"][0]
    assert out["decided_by"] is None


@pytest.mark.parametrize(
    ("query", "count"),
    [("", 1), ("?state=suspect", 1), ("?state=cleared", 0), ("?state=confirmed", 0)],
    ids=["no filter", "suspect", "cleared", "confirmed"],
)
def test_the_list_filters_by_state(admin_client, suspect, query, count):
    response = admin_client.get(f"/api/serials{query}")
    assert response.status_code == 200
    assert len(response.json()) == count


def test_an_unknown_state_is_a_400_naming_the_parameter(admin_client, suspect):
    response = admin_client.get("/api/serials?state=bogus")
    assert response.status_code == 400
    assert response.json()["field"] == "state"


def test_decide_confirm_then_clear_is_audited_with_the_tokens_user(
    admin_client, staff_user, suspect
):
    url = f"/api/serials/{suspect.pk}/decide"
    response = admin_client.post(url, {"decision": "confirm", "note": "Award template"})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "confirmed"
    assert response.json()["decided_by"] == "staff"
    assert response.json()["note"] == "Award template"
    response = admin_client.post(url, {"decision": "clear"})
    assert response.json()["state"] == "cleared"
    assert admin_client.get("/api/serials?state=cleared").json()[0]["id"] == suspect.pk
    entries = AuditEntry.objects.filter(object_type="serial", actor=staff_user)
    assert [e.changes["state"] for e in entries.order_by("id")] == [
        ["suspect", "confirmed"], ["confirmed", "cleared"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": 3}, "decision"),
        ({"decision": "clear", "note": "x" * 501}, "note"),
    ],
    ids=["missing decision", "unknown decision", "not a string", "note too long"],
)
def test_a_bad_decision_is_a_400_naming_the_field_and_changes_nothing(
    admin_client, suspect, body, field
):
    response = admin_client.post(f"/api/serials/{suspect.pk}/decide", body)
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"
    assert not AuditEntry.objects.filter(object_type="serial", actor__isnull=False).exists()


def test_an_unknown_serial_id_is_a_404(admin_client, suspect):
    response = admin_client.post("/api/serials/999999/decide", {"decision": "clear"})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_serial"


def test_a_member_may_neither_list_nor_decide(member_api, suspect):
    assert member_api.get("/api/serials").status_code == 403
    response = member_api.post(f"/api/serials/{suspect.pk}/decide", {"decision": "clear"})
    assert response.status_code == 403
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"


def test_the_api_needs_a_token(client, suspect):
    assert client.get("/api/serials").status_code == 401
    response = client.post(
        f"/api/serials/{suspect.pk}/decide", "{}", content_type="application/json"
    )
    assert response.status_code == 401


def test_the_list_costs_the_same_queries_for_one_serial_and_for_five(
    admin_client, device_client, suspect
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert len(admin_client.get("/api/serials").json()) == 1
    for n in range(4):
        for i in (1, 2, 3):
            mac = f"eth0:02:5e:01:{n:02x}:{i:02x}:00"
            body = {"inventory_data": {"mac_address": [mac], "serial_number": f"MXL72{n}"}}
            device_client.post("/api/inventory/submit", body)
    with CaptureQueriesContext(connection) as five:
        assert len(admin_client.get("/api/serials").json()) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
