"""The admin API: Bearer tokens, CRUD, device list/detail/edit, Quick MAC Inventory."""

import pytest

from inventory.auth import api_token_create
from inventory.models import ApiToken, Device, OrganizationMembership
from tests.conftest import DOC_SUBMIT, JsonClient
from tests.factories import DeviceFactory, DeviceMacFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_admin_api_needs_a_valid_token(client):
    assert client.get("/api/devices").status_code == 401
    assert client.get("/api/devices", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_only_a_hash_of_the_token_is_stored(staff_user):
    token = api_token_create(user=staff_user)
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert token not in str(list(ApiToken.objects.values()))


def test_create_api_token_command_shows_the_token_once(staff_user, capsys):
    from django.core.management import call_command

    call_command("create_api_token", "staff")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("arrow_")
    assert ApiToken.objects.count() == 1


def test_crud_organizations_specs_requests(admin_client):
    org = admin_client.post("/api/organizations", {"name": "Acme Labs"})
    assert org.status_code == 201
    assert org.json()["slug"] == "acme-labs"
    dup = admin_client.post("/api/organizations", {"name": "Acme Labs"})
    assert dup.status_code == 409
    assert dup.json()["field"] == "name"

    spec = admin_client.post(
        "/api/specs", {"name": "Dell R640", "name_patterns": ["*PowerEdge R640*"],
                       "capabilities": {"cores": 20}},
    )  # fmt: skip
    assert spec.status_code == 201
    edited = admin_client.put(
        f"/api/specs/{spec.json()['id']}", {"name": "Dell PowerEdge R640", "name_patterns": []}
    )
    assert edited.json()["name"] == "Dell PowerEdge R640"

    req = admin_client.post(
        "/api/requests",
        {
            "organization": "Acme Labs",
            "target_macs": ["AA-BB-CC-DD-EE-01"],
            "spec": "Dell PowerEdge R640",
        },
    )
    assert req.status_code == 201, req.content
    assert req.json()["target_macs"] == ["aa:bb:cc:dd:ee:01"]
    assert req.json()["status"] == "pending"
    clash = admin_client.post(
        "/api/requests", {"organization": "Acme Labs", "target_macs": ["aabb.ccdd.ee01"]}
    )
    assert clash.status_code == 409
    assert clash.json()["field"] == "target_macs[0]"
    bad = admin_client.post("/api/requests", {"organization": "Acme Labs", "target_macs": ["x"]})
    assert bad.status_code == 400
    assert bad.json()["field"] == "target_macs[0]"
    cancelled = admin_client.put(
        f"/api/requests/{req.json()['id']}",
        {"organization": "Acme Labs", "target_macs": ["aa:bb:cc:dd:ee:01"], "status": "cancelled"},
    )
    assert cancelled.json()["status"] == "cancelled"
    again = admin_client.post(
        "/api/requests", {"organization": "Acme Labs", "target_macs": ["aa:bb:cc:dd:ee:01"]}
    )
    assert again.status_code == 201  # a cancelled request no longer holds the MAC

    assert admin_client.delete(f"/api/organizations/{org.json()['id']}").status_code == 409


def test_quick_add_and_duplicate(admin_client, demo):
    created = admin_client.post(
        "/api/devices/quick-add", {"mac_address": "00-AA-BB-CC-DD-01", "organization": "Demo Org"}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["inventory_status"] == "manually_added"
    assert body["flagged_for_inventory"] is True
    assert body["macs"][0]["mac"] == "00:aa:bb:cc:dd:01"
    again = admin_client.post(
        "/api/devices/quick-add", {"mac_address": "00aabbccdd01", "organization": "Demo Org"}
    )
    assert again.status_code == 409
    assert again.json()["device_id"] == body["id"]
    bad = admin_client.post(
        "/api/devices/quick-add", {"mac_address": "zz", "organization": "Demo Org"}
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "mac_address"
    no_org = admin_client.post(
        "/api/devices/quick-add", {"mac_address": "00aabbccdd02", "organization": "Nope"}
    )
    assert no_org.status_code == 404
    assert no_org.json()["field"] == "organization"


def test_quick_add_bulk_answers_per_line(admin_client, demo):
    csv_text = "mac\n00:aa:bb:cc:dd:10\nnot-a-mac\n00-AA-BB-CC-DD-10\n00aa.bbcc.dd11\n"
    lines = admin_client.post(
        "/api/devices/quick-add/bulk", {"organization": "Demo Org", "csv": csv_text}
    ).json()
    assert [(line["line"], line["outcome"]) for line in lines] == [
        (2, "added"),
        (3, "invalid"),
        (4, "exists"),
        (5, "added"),
    ]
    assert Device.objects.count() == 2


def test_device_list_filters_and_detail(admin_client, device_client, demo):
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    DeviceMacFactory.create_batch(3)
    by_mac = admin_client.get("/api/devices", {"mac": "00-E0-4C-92-F7-A4"}).json()
    assert [d["serial_number"] for d in by_mac] == ["ABC123XYZ"]
    by_q = admin_client.get("/api/devices", {"q": "abc123xyz"}).json()
    assert len(by_q) == 1
    assert len(admin_client.get("/api/devices", {"page_size": 2}).json()) == 2
    assert len(admin_client.get("/api/devices", {"organization": "Demo Org"}).json()) == 1
    bad = admin_client.get("/api/devices", {"mac": "nope"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "mac"

    detail = admin_client.get(f"/api/devices/{by_mac[0]['id']}").json()
    assert detail["history"][0]["kind"] == "inventory"
    assert detail["submissions"][0]["outcome"] == "accepted"
    assert "ABC123XYZ" in detail["submissions"][0]["body"]


def test_device_edit_manual_serial_and_locks(admin_client, device_client, demo):
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    device = Device.objects.get()
    out = admin_client.patch(
        f"/api/devices/{device.pk}", {"serial_number": "HAND-1", "name": "rack1-u07"}
    ).json()
    assert out["serial_number"] == "HAND-1"
    assert out["sn_source"] == "manual"
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    device.refresh_from_db()
    assert device.name == "rack1-u07"  # an operator's name survives re-inventory
    assert device.serial_number == "ABC123XYZ"  # a real hardware serial replaces a hand-typed one
    assert admin_client.patch("/api/devices/dev-nope", {"name": "x"}).status_code == 404


def test_organization_member_sees_only_their_devices(client, django_user_model, demo):
    other = OrganizationFactory()
    mine = DeviceFactory(organization=demo["org"])
    theirs = DeviceFactory(organization=other)
    user = django_user_model.objects.create_user("member", password="pw-member-1")
    OrganizationMembership.objects.create(user=user, organization=demo["org"])
    api = JsonClient(client, {"Authorization": f"Bearer {api_token_create(user=user)}"})
    ids = [d["id"] for d in api.get("/api/devices").json()]
    assert ids == [mine.pk]
    assert api.get(f"/api/devices/{theirs.pk}").status_code == 404
    assert api.patch(f"/api/devices/{theirs.pk}", {"name": "x"}).status_code == 404
    assert (
        api.post(
            "/api/devices/quick-add",
            {"mac_address": "00:11:22:33:44:55", "organization": other.name},
        ).status_code
        == 404
    )
    assert api.post("/api/organizations", {"name": "Mine"}).status_code == 403


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/devices", {"organization": "No Such Org"}),
        ("/api/devices", {"has_modem": "maybe"}),
        ("/api/devices", {"inventory_status": "bogus"}),
        ("/api/devices", {"spec": "No Such Spec"}),
        ("/api/devices", {"mac": "nope"}),
        ("/api/requests", {"status": "bogus"}),
        ("/api/boot-events", {"mac": "nope"}),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(admin_client, demo, path, query):
    response = admin_client.get(path, query)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["field"] == next(iter(query))


def test_the_api_and_the_portal_take_the_same_filter_parameters(admin_client, staff_user, demo):
    from django.test import Client

    staff_client = Client()
    staff_client.force_login(staff_user)
    org = OrganizationFactory(name="Red Team")
    device = DeviceFactory(name="PVE-77", serial_number="SN7701", organization=org)
    wanted = DeviceMacFactory(mac="02:00:00:00:77:01", device=device).device
    DeviceFactory(name="PVE-78", organization=org)
    for query in (
        {"mac": "02-00-00-00-77-01"},
        {"name": "PVE-77"},
        {"serial": wanted.serial_number},
        {"organization": org.slug, "q": "PVE-77"},
        {"organization": org.name, "q": "PVE-77"},
    ):
        api = [d["id"] for d in admin_client.get("/api/devices", query).json()]
        page = staff_client.get("/devices/", query)
        assert api == [wanted.pk], query
        assert page.status_code == 200
        assert f"/devices/{wanted.pk}/" in page.content.decode(), query
    assert staff_client.get("/devices/", {"has_modem": "maybe"}).status_code == 400
