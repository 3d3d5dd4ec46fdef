"""Who may open what: login everywhere, POST with CSRF for changes, 404 across organizations,
403 on staff pages; and no asset from the internet."""

import re

import pytest
from django.test import Client

from inventory.models import Device, DeviceRequest
from inventory.services.catalog import request_save
from tests.factories import DeviceFactory, DeviceMacFactory, DeviceSpecFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/devices/",
    "/devices/export.csv",
    "/devices/dev-0000000000/",
    "/quick-add/",
    "/requests/",
    "/requests/new/",
    "/requests/1/",
    "/specs/",
    "/specs/new/",
    "/specs/1/",
    "/organizations/",
    "/organizations/new/",
    "/organizations/1/",
    "/submissions/",
    "/submissions/1/",
    "/audit/",
    "/serials/",
    "/boots/",
]
POSTS = [
    "/devices/bulk-status/",
    "/devices/dev-0000000000/serial/",
    "/devices/dev-0000000000/edit/",
    "/devices/dev-0000000000/reinventory/",
    "/quick-add/",
    "/quick-add/bulk/",
    "/submissions/1/resolve/",
    "/serials/1/decide/",
]
STAFF_ONLY = [
    "/organizations/",
    "/organizations/new/",
    "/specs/new/",
    "/submissions/",
    "/audit/",
    "/serials/",
]


@pytest.mark.parametrize("path", PAGES + POSTS)
def test_every_page_redirects_an_anonymous_visitor_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", POSTS)
def test_an_anonymous_post_changes_nothing(client, path):
    assert client.post(path, {}).status_code == 302
    assert Device.objects.count() == 0


def test_login_page_and_api_are_reachable_without_a_session(client):
    assert client.get("/login/").status_code == 200
    response = client.post("/api/inventory/check-mac", "{}", content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/devices/bulk-status/",
        "/devices/dev-0000000000/serial/",
        "/devices/dev-0000000000/reinventory/",
        "/quick-add/bulk/",
        "/submissions/1/resolve/",
        "/serials/1/decide/",
        "/logout/",
    ],
)
def test_changes_are_post_only(staff_client, path):
    assert staff_client.get(path).status_code == 405


def test_a_post_without_csrf_token_is_refused(staff_user, orgs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    data = {"single-mac_address": "02:aa:00:00:00:01", "single-organization": orgs["own"].pk}
    assert client.post("/quick-add/", data).status_code == 403
    assert Device.objects.count() == 0
    client.get("/quick-add/")
    data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    assert client.post("/quick-add/", data).status_code == 302
    assert Device.objects.count() == 1


def test_logout_is_a_post_and_ends_the_session(staff_client):
    assert staff_client.post("/logout/").status_code == 302
    assert staff_client.get("/").status_code == 302


@pytest.mark.parametrize("path", STAFF_ONLY)
def test_staff_pages_are_forbidden_to_a_member(member_client, path):
    assert member_client.get(path).status_code == 403


def test_a_member_cannot_edit_a_spec_but_can_read_it_and_check_a_name(member_client):
    spec = DeviceSpecFactory(name="NUC", name_patterns=["*NUC11*"])
    response = member_client.get(f"/specs/{spec.pk}/?reported=NUC11TNHi5")
    assert response.status_code == 200
    assert "matches this spec" in response.content.decode()
    assert member_client.post(f"/specs/{spec.pk}/", {"name": "X"}).status_code == 403


def test_a_member_sees_only_the_own_organizations_devices(member_client, orgs):
    own = DeviceFactory(organization=orgs["own"])
    other = DeviceFactory(organization=orgs["other"])
    unassigned = DeviceFactory(organization=None)
    page = member_client.get("/devices/").content.decode()
    assert own.pk in page
    assert other.pk not in page
    assert unassigned.pk not in page
    export = b"".join(member_client.get("/devices/export.csv").streaming_content).decode()
    assert own.pk in export
    assert other.pk not in export


def test_another_organizations_device_is_404_on_every_url(member_client, orgs):
    other = DeviceFactory(organization=orgs["other"], serial_number="KEEP")
    base = f"/devices/{other.pk}/"
    assert member_client.get(base).status_code == 404
    assert member_client.post(base + "serial/", {"serial_number": "X"}).status_code == 404
    assert member_client.post(base + "reinventory/").status_code == 404
    assert member_client.post(base + "edit/", {"name": "X"}).status_code == 404
    other.refresh_from_db()
    assert (other.serial_number, other.flagged_for_inventory, other.name) == (
        "KEEP",
        False,
        other.name,
    )


def test_a_member_cannot_bulk_update_another_organizations_device(member_client, orgs):
    own = DeviceFactory(organization=orgs["own"])
    other = DeviceFactory(organization=orgs["other"])
    response = member_client.post(
        "/devices/bulk-status/",
        {"device_ids": [own.pk, other.pk], "new_status": "reviewed"},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any(other.pk in m for m in messages)
    assert set(Device.objects.values_list("inventory_status", flat=True)) == {"newly_inventoried"}


def test_a_member_cannot_quick_add_into_another_organization(member_client, orgs):
    response = member_client.post(
        "/quick-add/",
        {"single-mac_address": "02:aa:00:00:00:09", "single-organization": orgs["other"].pk},
    )
    assert response.status_code == 400
    assert "organization" in response.context["single"].errors
    assert Device.objects.count() == 0


def test_quick_add_of_a_mac_owned_by_another_organization_does_not_link_to_it(member_client, orgs):
    theirs = DeviceMacFactory(mac="02:aa:00:00:00:0a", device__organization=orgs["other"]).device
    response = member_client.post(
        "/quick-add/",
        {"single-mac_address": "02:aa:00:00:00:0a", "single-organization": orgs["own"].pk},
        follow=True,
    )
    (message,) = [str(m) for m in response.context["messages"]]
    assert "already registered" in message
    assert "<a " not in message
    assert theirs.pk not in message  # not even the id of another organization's device


def test_a_member_sees_and_edits_only_the_own_organizations_requests(member_client, orgs):
    own = request_save(organization=orgs["own"], target_macs=["02:aa:00:00:00:11"])
    other = request_save(organization=orgs["other"], target_macs=["02:aa:00:00:00:12"])
    listing = member_client.get("/requests/").content.decode()
    assert f"/requests/{own.pk}/" in listing
    assert f"/requests/{other.pk}/" not in listing
    assert member_client.get(f"/requests/{other.pk}/").status_code == 404
    edit = {
        "organization": orgs["own"].pk,
        "target_macs": "02:aa:00:00:00:12",
        "status": "cancelled",
    }
    assert member_client.post(f"/requests/{other.pk}/", edit).status_code == 404
    assert DeviceRequest.objects.get(pk=other.pk).status == "pending"
    # Nor can a member move a request into an organization that is not theirs.
    edit = {
        "organization": orgs["other"].pk,
        "target_macs": "02:aa:00:00:00:11",
        "status": "pending",
    }
    assert member_client.post(f"/requests/{own.pk}/", edit).status_code == 400
    assert DeviceRequest.objects.get(pk=own.pk).organization == orgs["own"]


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/devices/",
        "/quick-add/",
        "/requests/",
        "/specs/",
        "/submissions/",
        "/audit/",
        "/serials/",
    ],
)
def test_no_page_links_an_asset_on_another_host(staff_client, path):
    html = staff_client.get(path).content.decode()
    assert "/static/vendor/bootstrap-" in html
    assert not ASSET.findall(html), ASSET.findall(html)


def test_the_login_page_links_no_asset_on_another_host(client):
    html = client.get("/login/").content.decode()
    assert not ASSET.findall(html)


def test_a_members_dashboard_counts_only_the_own_organization(member_client, orgs):
    DeviceFactory(organization=orgs["own"], flagged_for_inventory=True)
    DeviceFactory(organization=orgs["other"], flagged_for_inventory=True)
    response = member_client.get("/")
    counts = {v: n for v, _, n in response.context["counts"]["inventory_status"]}
    assert counts["newly_inventoried"] == 1
    assert response.context["flagged_total"] == 1
    assert "attention" not in response.context  # the journal is for staff
