"""The portal's webhook pages: who sees them, the secret shown once, edits, redeliver (POST with
CSRF), and bad input as a 400 on the form."""

from __future__ import annotations

import pytest
from django.test import Client

from inventory.models import OrganizationMembership, WebhookDelivery, WebhookSubscription
from inventory.services.webhooks import webhook_emit, webhook_subscription_create

pytestmark = pytest.mark.django_db

NEW = "/webhooks/new/"


@pytest.fixture
def org_admin_client(django_user_model, orgs):
    user = django_user_model.objects.create_user("blue-admin", password="pw-admin-123")
    OrganizationMembership.objects.create(user=user, organization=orgs["own"], is_admin=True)
    client = Client()
    client.force_login(user)
    return client


def form(url="https://cmdb.example/hook", **extra):
    types = ["device.imaged", "request.fulfilled"]
    return {"url": url, "event_types": types, "active": "on"} | extra


def test_staff_create_a_webhook_and_see_its_secret_once(staff_client):
    response = staff_client.post(NEW, form(description="CMDB"))
    assert response.status_code == 200
    sub = WebhookSubscription.objects.get()
    assert sub.organization is None  # staff: every organization
    assert sub.secret in response.content.decode()
    detail = staff_client.get(f"/webhooks/{sub.pk}/")
    assert detail.status_code == 200
    assert sub.secret not in detail.content.decode()
    assert sub.secret not in staff_client.get("/webhooks/").content.decode()


def test_a_non_http_url_is_a_400_on_the_url_field(staff_client):
    response = staff_client.post(NEW, form(url="ftp://cmdb.example/"))
    assert response.status_code == 400
    assert "only http:// and https://" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_a_plain_member_may_not_open_the_pages(member_client, staff_user, orgs):
    sub, _ = webhook_subscription_create(
        actor=staff_user, url="http://127.0.0.1:9/", event_types=["device.imaged"],
        organization=orgs["own"],
    )  # fmt: skip
    assert member_client.get("/webhooks/").status_code == 403
    assert member_client.post(NEW, form()).status_code == 403
    assert member_client.get(f"/webhooks/{sub.pk}/").status_code == 404
    assert b"Webhooks</a>" not in member_client.get("/").content


def test_an_organization_admin_manages_only_its_own(org_admin_client, staff_user, orgs):
    other, _ = webhook_subscription_create(
        actor=staff_user, url="http://127.0.0.1:9/", event_types=["device.imaged"],
        organization=orgs["other"],
    )  # fmt: skip
    assert b'title="Events sent to other systems">Webhooks</a>' in org_admin_client.get("/").content
    refused = org_admin_client.post(NEW, form(organization=orgs["other"].pk))
    assert refused.status_code == 400  # not one of the choices
    created = org_admin_client.post(NEW, form(organization=orgs["own"].pk))
    assert created.status_code == 200
    mine = WebhookSubscription.objects.get(organization=orgs["own"])
    listing = org_admin_client.get("/webhooks/").content.decode()
    assert f"#{mine.pk}" in listing
    assert f"#{other.pk}<" not in listing
    assert org_admin_client.get(f"/webhooks/{other.pk}/").status_code == 404
    assert org_admin_client.post(f"/webhooks/{other.pk}/delete/").status_code == 404
    edited = org_admin_client.post(
        f"/webhooks/{mine.pk}/", {"url": "https://new.example/", "event_types": ["device.stuck"]}
    )
    assert edited.status_code == 302
    mine.refresh_from_db()
    assert (mine.url, mine.event_types, mine.active) == (
        "https://new.example/",
        ["device.stuck"],
        False,
    )


def test_redeliver_needs_post_and_csrf(staff_user, staff_client):
    from django.db import transaction

    sub, _ = webhook_subscription_create(
        actor=staff_user, url="http://127.0.0.1:9/", event_types=["device.stuck"]
    )
    with transaction.atomic():
        webhook_emit(event_type="device.stuck", organization=None, ordering_key="k", data={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(state="failed", attempts=15)
    url = f"/webhooks/deliveries/{delivery.pk}/redeliver/"
    assert staff_client.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    assert strict.post(url).status_code == 403
    assert WebhookDelivery.objects.get().state == "failed"
    response = staff_client.post(url)
    assert response.status_code == 302
    assert WebhookDelivery.objects.get().state == "pending"
    page = staff_client.get(f"/webhooks/{sub.pk}/").content.decode()
    assert "device.stuck" in page
    assert "queued again" in page
