"""One organization's member, or one device on the boot network, never changes (or learns about)
what belongs to another organization or another device. Everything goes through HTTP: the admin
API with a member's token, the portal with a member's session, the boot endpoint and /submit."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from inventory.auth import api_token_create
from inventory.choices import ImagingStatus
from inventory.models import (
    BootToken,
    Device,
    DeviceMac,
    DeviceRequest,
    OrganizationMembership,
    RequestMac,
    Submission,
)
from tests.conftest import DOC_MAC, JsonClient
from tests.factories import DeviceMacFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

B_MAC = "02:bb:00:00:00:01"
SUBMIT = "/api/inventory/submit"


@pytest.fixture
def two_orgs(django_user_model, settings):
    """Org A (imaging URL of its own) and Org B, a member of each, and Org B's production device
    (inventoried, imaged, MAC B_MAC, serial B-SERIAL)."""
    settings.ARROW_IMAGING_URL = ""
    org_a = OrganizationFactory(name="Org A", imaging_url="http://a.example/{mac}")
    org_b = OrganizationFactory(name="Org B")
    users = {}
    for key, org in (("a", org_a), ("b", org_b)):
        user = django_user_model.objects.create_user(f"member-{key}", password=f"pw-{key}-12345")
        OrganizationMembership.objects.create(user=user, organization=org)
        users[key] = user
    mac = DeviceMacFactory(
        mac=B_MAC,
        device__organization=org_b,
        device__name="b-prod-1",
        device__serial_number="B-SERIAL",
        device__imaging_status=ImagingStatus.IMAGED,
    )
    device = mac.device
    Device.objects.filter(pk=device.pk).update(inventoried_at="2026-01-01T00:00:00Z")
    return {"a": org_a, "b": org_b, "users": users, "device": Device.objects.get(pk=device.pk)}


def api_for(client, user) -> JsonClient:
    return JsonClient(client, {"Authorization": f"Bearer {api_token_create(user=user)}"})


def portal_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def b_state(device_id: str):
    d = Device.objects.get(pk=device_id)
    macs = sorted(DeviceMac.objects.filter(device=d).values_list("mac", flat=True))
    return (d.name, d.serial_number, d.organization_id, d.request_id, d.imaging_status, macs)


# --- 1. a request never takes another organization's device ---


def test_a_member_cannot_request_a_mac_another_organizations_device_holds(client, two_orgs):
    api = api_for(client, two_orgs["users"]["a"])
    response = api.post("/api/requests", {"organization": "Org A", "target_macs": [B_MAC]})
    assert response.status_code == 409, response.content
    body = response.json()
    assert (body["code"], body["field"]) == ("mac_already_registered", "target_macs[0]")
    text = response.content.decode()
    assert two_orgs["device"].pk not in text
    assert "Org B" not in text
    assert DeviceRequest.objects.count() == 0


def test_the_portal_refuses_the_same_request(two_orgs):
    portal = portal_for(two_orgs["users"]["a"])
    form = {"organization": two_orgs["a"].pk, "target_macs": B_MAC, "status": "pending"}
    response = portal.post("/requests/new/", form)
    assert response.status_code == 400
    text = response.content.decode()
    assert "already registered" in text
    assert two_orgs["device"].pk not in text
    assert "Org B" not in text
    assert DeviceRequest.objects.count() == 0


def test_staff_may_request_a_mac_of_a_device_without_an_organization(admin_client, two_orgs):
    orphan = DeviceMacFactory(mac="02:bb:00:00:00:09").device
    body = {"organization": "Org A", "target_macs": ["02:bb:00:00:00:09"]}
    assert admin_client.post("/api/requests", body).status_code == 201
    assert Device.objects.get(pk=orphan.pk).organization is None  # until it is inventoried


def test_a_submission_never_moves_a_device_to_another_organization(client, device_client, two_orgs):
    """A request that slipped through (made before the rule, or the device changed hands since):
    the device's next inventory is a conflict for staff, and the device stays where it was."""
    before = b_state(two_orgs["device"].pk)
    stale = DeviceRequest.objects.create(organization=two_orgs["a"])
    RequestMac.objects.create(request=stale, mac=B_MAC)
    # The boot endpoint sends the device to inventory (the pending request)...
    script = client.get("/pxe/boot.ipxe", {"mac": B_MAC}).content.decode()
    token = re.search(r"arrow\.token=(\S+)", script).group(1)
    body = {"inventory_data": {"mac_address": [f"eth0:{B_MAC}"], "serial_number": "B-SERIAL"}}
    response = client.post(
        SUBMIT, json.dumps(body), content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "organization_conflict"
    assert b_state(two_orgs["device"].pk) == before
    entry = Submission.objects.get()
    assert entry.outcome == "conflict"
    assert entry.conflict_device_ids == [two_orgs["device"].pk]
    assert DeviceRequest.objects.get(pk=stale.pk).status == "pending"
    # ...and Org A's member still cannot see it.
    api = api_for(client, two_orgs["users"]["a"])
    assert api.get(f"/api/devices/{two_orgs['device'].pk}").status_code == 404


def test_an_organization_set_by_hand_stays(admin_client, device_client, two_orgs):
    device = two_orgs["device"]
    response = admin_client.patch(f"/api/devices/{device.pk}", {"organization": ""})
    assert response.status_code == 200
    stale = DeviceRequest.objects.create(organization=two_orgs["a"])
    RequestMac.objects.create(request=stale, mac=B_MAC)
    body = {"inventory_data": {"mac_address": [f"eth0:{B_MAC}"], "serial_number": "B-SERIAL"}}
    response = device_client.post(SUBMIT, body)
    assert response.status_code == 409
    assert Device.objects.get(pk=device.pk).organization is None


# --- 2. a boot token proves one device ---


def boot_token(client, mac: str) -> str:
    script = client.get("/pxe/boot.ipxe", {"mac": mac}).content.decode()
    return re.search(r"arrow\.token=(\S+)", script).group(1)


def submit_with(client, token: str, data: dict):
    return client.post(
        SUBMIT, json.dumps({"inventory_data": data}), content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        {"mac_address": [f"eth0:{DOC_MAC}", f"eth1:{B_MAC}"], "device_name": "stolen"},
        {"mac_address": [f"eth0:{DOC_MAC}"], "serial_number": "B-SERIAL", "device_name": "x"},
    ],
    ids=["another device's MAC", "another device's serial"],
)
def test_a_boot_token_for_one_mac_cannot_rewrite_another_device(client, demo, two_orgs, data):
    before = b_state(two_orgs["device"].pk)
    token = boot_token(client, DOC_MAC)  # DOC_MAC: the demo's pending request
    response = submit_with(client, token, data)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "token_device_mismatch"
    assert b_state(two_orgs["device"].pk) == before
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert entry.credential == "boot_token"
    # The token is still good for its own device.
    assert submit_with(client, token, {"mac_address": [f"eth0:{DOC_MAC}"]}).status_code == 200


def test_a_boot_token_updates_its_own_device(client, two_orgs):
    device = two_orgs["device"]
    Device.objects.filter(pk=device.pk).update(flagged_for_inventory=True)
    token = boot_token(client, B_MAC)
    data = {"mac_address": [f"eth0:{B_MAC}", "eth1:02:bb:00:00:00:02"], "serial_number": "B-SERIAL"}
    assert submit_with(client, token, data).status_code == 200
    assert DeviceMac.objects.filter(device=device).count() == 2


def test_one_live_token_per_mac_reused_while_valid(client, demo, settings):
    first = boot_token(client, DOC_MAC)
    assert boot_token(client, DOC_MAC) == first
    assert BootToken.objects.filter(mac=DOC_MAC).count() == 1
    # Anonymous boot floods do not grow the table.
    for _ in range(20):
        boot_token(client, DOC_MAC)
    assert BootToken.objects.count() == 1


def test_expired_tokens_are_pruned_and_replaced(client, demo, settings):
    settings.ARROW_BOOT_TOKEN_TTL = -1
    expired = boot_token(client, DOC_MAC)
    settings.ARROW_BOOT_TOKEN_TTL = 1800
    fresh = boot_token(client, DOC_MAC)
    assert fresh != expired
    assert BootToken.objects.count() == 1
    assert submit_with(client, fresh, {"mac_address": [f"eth0:{DOC_MAC}"]}).status_code == 200
    assert BootToken.objects.get().used_at is not None


# --- 5. no other organization's ids in answers ---


def test_quick_add_of_another_organizations_mac_names_no_device(client, two_orgs):
    api = api_for(client, two_orgs["users"]["a"])
    response = api.post("/api/devices/quick-add", {"mac_address": B_MAC, "organization": "Org A"})
    assert response.status_code == 409
    assert response.json()["code"] == "mac_already_registered"
    assert "already registered" in response.json()["detail"]
    assert two_orgs["device"].pk not in response.content.decode()
    bulk = api.post("/api/devices/quick-add/bulk", {"organization": "Org A", "macs": [B_MAC]})
    assert bulk.status_code == 200
    assert bulk.json()[0]["outcome"] == "exists"
    assert two_orgs["device"].pk not in bulk.content.decode()
    portal = portal_for(two_orgs["users"]["a"])
    form = {"single-mac_address": B_MAC, "single-organization": two_orgs["a"].pk}
    page = portal.post("/quick-add/", form, follow=True)
    assert "already registered" in page.content.decode()
    assert two_orgs["device"].pk not in page.content.decode()


def test_staff_still_see_which_device_holds_the_mac(admin_client, two_orgs):
    body = {"mac_address": B_MAC, "organization": "Org A"}
    response = admin_client.post("/api/devices/quick-add", body)
    assert response.status_code == 409
    assert response.json()["device_id"] == two_orgs["device"].pk


def test_a_conflicting_request_does_not_name_another_organizations_request(client, two_orgs):
    b_api = api_for(client, two_orgs["users"]["b"])
    mine = b_api.post(
        "/api/requests", {"organization": "Org B", "target_macs": ["02:cc:00:00:00:01"]}
    )
    assert mine.status_code == 201
    a_api = api_for(client, two_orgs["users"]["a"])
    response = a_api.post(
        "/api/requests", {"organization": "Org A", "target_macs": ["02:cc:00:00:00:01"]}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "mac_already_requested"
    assert body.get("request_id") is None
    assert f"#{mine.json()['id']}" not in body["detail"]


# --- everything Org A's member can do, tried on Org B's objects ---


def org_b_snapshot(org_b):
    """Every fact of Org B's devices and requests a change could touch."""
    devices = Device.objects.filter(organization=org_b).order_by("pk")
    return {
        "devices": [
            (*b_state(d.pk), d.inventory_status, d.flagged_for_inventory, d.updated_at)
            for d in devices
        ],
        "requests": sorted(
            DeviceRequest.objects.filter(organization=org_b).values_list(
                "pk", "status", "note", "updated_at"
            )
        ),
        "request_macs": sorted(RequestMac.objects.values_list("request_id", "mac", "open")),
    }


def test_org_a_member_is_refused_everything_on_org_b_objects(client, two_orgs):
    org_b, device = two_orgs["b"], two_orgs["device"]
    b_request = DeviceRequest.objects.create(organization=org_b, note="b's")
    RequestMac.objects.create(request=b_request, mac="02:bb:00:00:00:77")
    before = org_b_snapshot(org_b)
    member = two_orgs["users"]["a"]
    api = api_for(client, member)
    dev = f"/api/devices/{device.pk}"
    b_body = {"organization": "Org B", "target_macs": ["02:bb:00:00:00:78"]}
    api_attempts = [
        ("get", dev, None, {404}),
        ("patch", dev, {"name": "mine"}, {404}),
        ("patch", dev, {"organization": "Org A"}, {404}),
        ("post", f"{dev}/requeue-imaging", {}, {404}),
        ("get", f"/api/requests/{b_request.pk}", None, {404}),
        ("put", f"/api/requests/{b_request.pk}", {**b_body, "organization": "Org A"}, {404}),
        ("post", "/api/requests", b_body, {404}),
        ("post", "/api/requests", {"organization": "Org A", "target_macs": [B_MAC]}, {409}),
        ("post", "/api/devices/quick-add",
         {"mac_address": "02:bb:00:00:00:79", "organization": "Org B"}, {404}),
        ("put", f"/api/organizations/{org_b.pk}", {"name": "taken"}, {403}),
        ("delete", f"/api/organizations/{org_b.pk}", None, {403}),
    ]  # fmt: skip
    for method, path, body, statuses in api_attempts:
        call = getattr(api, method)
        response = call(path, body) if body is not None else call(path)
        assert response.status_code in statuses, (method, path, response.content[:200])
        # A 404 may echo the id that was asked for, never what the device is.
        assert "b-prod-1" not in response.content.decode(), (method, path)
        assert "B-SERIAL" not in response.content.decode(), (method, path)
    listed = api.get("/api/devices").content.decode() + api.get("/api/requests").content.decode()
    assert device.pk not in listed
    assert "b's" not in listed
    assert "Org B" not in api.get("/api/organizations").content.decode()
    assert api.get("/api/boot-events").json() == []

    portal = portal_for(member)
    page = f"/devices/{device.pk}/"
    portal_attempts = [
        ("get", page, {}, 404),
        ("post", f"{page}edit/", {"name": "mine", "organization": two_orgs["a"].pk}, 404),
        ("post", f"{page}serial/", {"serial_number": "MINE"}, 404),
        ("post", f"{page}reinventory/", {}, 404),
        ("get", f"/requests/{b_request.pk}/", {}, 404),
        ("post", f"/requests/{b_request.pk}/", {"organization": two_orgs["a"].pk,
                                                "target_macs": "02:bb:00:00:00:77",
                                                "status": "cancelled"}, 404),
        ("get", f"/organizations/{org_b.pk}/", {}, 403),
        ("get", "/submissions/", {}, 403),
        ("get", "/audit/", {}, 403),
    ]  # fmt: skip
    for method, path, data, status in portal_attempts:
        response = getattr(portal, method)(path, data)
        assert response.status_code == status, (method, path)
    listing = portal.get("/devices/").content.decode() + portal.get("/boots/").content.decode()
    assert device.pk not in listing
    bulk = portal.post(
        "/devices/bulk-status/", {"device_ids": [device.pk], "new_status": "reviewed"}
    )
    assert bulk.status_code == 302
    assert org_b_snapshot(org_b) == before
