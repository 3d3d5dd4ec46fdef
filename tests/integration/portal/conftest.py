"""Portal view fixtures, built on tests/conftest.py's staff_user: staff_client (a staff
operator's session), then orgs -> member -> member_client (a member of one organization)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import OrganizationFactory


@pytest.fixture
def staff_client(staff_user):
    """Django's Client with a staff operator's session (full middleware stack)."""
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def orgs(db):
    """Two organizations: 'own' (the member's) and 'other'."""
    return {"own": OrganizationFactory(name="Blue Team"), "other": OrganizationFactory(name="Red")}


@pytest.fixture
def member(django_user_model, orgs):
    """A non-staff user who belongs to the 'own' organization only."""
    from inventory.models import OrganizationMembership

    user = django_user_model.objects.create_user("member", password="pw-member-1")
    OrganizationMembership.objects.create(user=user, organization=orgs["own"])
    return user


@pytest.fixture
def member_client(member):
    client = Client()
    client.force_login(member)
    return client
