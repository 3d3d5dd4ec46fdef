"""The admin API obeys the portal's rules: staff-only catalog edits (403), a member limited to
their organization (404 elsewhere), and every change audited with the token's user."""

import pytest

from inventory.auth import api_token_create
from inventory.models import AuditEntry, OrganizationMembership
from tests.conftest import JsonClient
from tests.factories import DeviceFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_api(client, django_user_model):
    """A member of 'Blue' using the admin API with their own token."""
    user = django_user_model.objects.create_user("member", password="pw-member-1")
    blue = OrganizationFactory(name="Blue")
    OrganizationMembership.objects.create(user=user, organization=blue)
    token = api_token_create(user=user, name="tests")
    return JsonClient(client, {"Authorization": f"Bearer {token}"})


def test_a_member_may_not_edit_organizations_or_specs(member_api):
    assert member_api.post("/api/organizations", {"name": "Mine"}).status_code == 403
    response = member_api.post("/api/specs", {"name": "X", "name_patterns": []})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_member_gets_404_for_another_organizations_device(member_api):
    other = DeviceFactory(organization=OrganizationFactory(name="Red"))
    assert member_api.get(f"/api/devices/{other.pk}").status_code == 404
    assert member_api.get("/api/devices").json() == []


def test_admin_api_changes_are_audited_with_the_tokens_user(admin_client, staff_user):
    response = admin_client.post("/api/organizations", {"name": "Green"})
    assert response.status_code == 201
    response = admin_client.post(
        "/api/requests", {"organization": "Green", "target_macs": ["02:aa:00:00:00:01"]}
    )
    assert response.status_code == 201
    entries = AuditEntry.objects.order_by("id")
    assert [(e.object_type, e.action, e.actor) for e in entries] == [
        ("organization", "created", staff_user),
        ("request", "created", staff_user),
    ]
