"""Requests, organizations and specs through the portal; each change leaves an audit row."""

import pytest

from inventory.models import AuditEntry, DeviceRequest, DeviceSpec, Organization
from tests.factories import DeviceSpecFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_create_a_request_with_macs_in_any_form(staff_client, staff_user, orgs):
    spec = DeviceSpecFactory()
    response = staff_client.post(
        "/requests/new/",
        {
            "organization": orgs["own"].pk,
            "spec": spec.pk,
            "target_macs": "02-AA-00-00-00-01\n02aa.0000.0002",
            "status": "pending",
            "note": "rack 4",
        },
    )
    req = DeviceRequest.objects.get()
    assert response["Location"] == f"/requests/{req.pk}/"
    assert sorted(req.macs.values_list("mac", flat=True)) == [
        "02:aa:00:00:00:01",
        "02:aa:00:00:00:02",
    ]
    audit = AuditEntry.objects.get(object_type="request")
    assert (audit.action, audit.actor) == ("created", staff_user)


def test_edit_a_request_status_is_audited_and_shown(staff_client, orgs):
    data = {"organization": orgs["own"].pk, "target_macs": "02:aa:00:00:00:01", "status": "pending"}
    staff_client.post("/requests/new/", data)
    req = DeviceRequest.objects.get()
    staff_client.post(f"/requests/{req.pk}/", {**data, "status": "cancelled"})
    req.refresh_from_db()
    assert req.status == "cancelled"
    html = staff_client.get(f"/requests/{req.pk}/").content.decode()
    # The audit list on the page shows the change with the statuses' labels.
    assert 'Pending</span> → <span class="new fw-medium">Cancelled' in html


@pytest.mark.parametrize(
    ("macs", "message"),
    [("not-a-mac", "is not a MAC address"), ("02:aa:00:00:00:07", "already the target")],
    ids=["invalid mac", "mac of another open request"],
)
def test_request_errors_land_on_the_target_macs_field(staff_client, orgs, macs, message):
    data = {"organization": orgs["own"].pk, "target_macs": "02:aa:00:00:00:07", "status": "pending"}
    staff_client.post("/requests/new/", data)
    response = staff_client.post("/requests/new/", {**data, "target_macs": macs})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["target_macs"])
    assert DeviceRequest.objects.count() == 1


def test_organization_create_edit_and_duplicate_name(staff_client, staff_user):
    response = staff_client.post("/organizations/new/", {"name": "Green Team"})
    org = Organization.objects.get(name="Green Team")
    assert response["Location"] == f"/organizations/{org.pk}/"
    assert org.slug == "green-team"
    staff_client.post(f"/organizations/{org.pk}/", {"name": "Green Team", "imaging_url": "x"})
    assert [a.action for a in AuditEntry.objects.order_by("id")] == ["created", "updated"]
    OrganizationFactory(name="Taken")
    response = staff_client.post(f"/organizations/{org.pk}/", {"name": "Taken"})
    assert response.status_code == 400
    assert "exists" in " ".join(response.context["form"].errors["name"])


def test_spec_create_with_patterns_and_capabilities(staff_client):
    response = staff_client.post(
        "/specs/new/",
        {
            "name": "Intel NUC 11 Pro",
            "name_patterns": "*NUC11TN*\n*NUC11PA*",
            "capabilities": '{"cores": 4, "ram_gb": 16}',
        },
    )
    spec = DeviceSpec.objects.get()
    assert response["Location"] == f"/specs/{spec.pk}/"
    assert spec.name_patterns == ["*NUC11TN*", "*NUC11PA*"]
    assert spec.capabilities == {"cores": 4, "ram_gb": 16}


def test_spec_capabilities_must_be_json(staff_client):
    response = staff_client.post("/specs/new/", {"name": "X", "capabilities": "{cores: 4"})
    assert response.status_code == 400
    assert "capabilities" in response.context["form"].errors


def test_spec_capabilities_must_be_an_object(staff_client):
    response = staff_client.post("/specs/new/", {"name": "X", "capabilities": "[1, 2]"})
    assert response.status_code == 400
    assert "must be an object" in " ".join(response.context["form"].errors["capabilities"])


@pytest.mark.parametrize(
    ("reported", "verdict"),
    [
        ("nuc11tnhi5", "matches this spec"),
        ("Intel NUC 11 Pro", "matches this spec"),
        ("OptiPlex 7090", "matches another spec"),
        ("Mystery Box", "matches no spec"),
    ],
    ids=["pattern", "exact name", "other spec", "nothing"],
)
def test_spec_page_checks_a_reported_name(staff_client, reported, verdict):
    spec = DeviceSpecFactory(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"])
    DeviceSpecFactory(name="Dell OptiPlex 7090", name_patterns=["*OptiPlex 7090*"])
    response = staff_client.get(f"/specs/{spec.pk}/", {"reported": reported})
    assert verdict in response.content.decode()
