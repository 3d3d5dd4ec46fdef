"""Webhooks: events are written in the transaction of their change (and vanish with it), the
admin API manages subscriptions within the organization rules, and the in-process worker
functions deliver to a real receiver on 127.0.0.1, retry with back-off and give up."""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from inventory.auth import api_token_create
from inventory.choices import DeliveryState, WebhookEventType
from inventory.models import (
    Device,
    OrganizationMembership,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from inventory.services import outbox
from inventory.services.pxe import device_imaging_report
from inventory.services.webhooks import webhook_emit, webhook_subscription_create
from tests.conftest import DOC_SUBMIT, JsonClient
from tests.factories import DeviceMacFactory, OrganizationFactory
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

ALL = WebhookEventType.values  # every type there is, so a new one is covered too


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def subscription(demo, staff_user, receiver):
    """A staff subscription to every event of every organization, pointed at the receiver."""
    sub, _ = webhook_subscription_create(actor=staff_user, url=receiver.url, event_types=ALL)
    return sub


def types() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True))


def submit(device_client, body=DOC_SUBMIT):
    response = device_client.post("/api/inventory/submit", body)
    return response.status_code, response.json()


# --- the outbox is written with the change -----------------------------------------------------


def test_a_submission_writes_its_event_and_one_delivery_per_listener(device_client, subscription):
    status, out = submit(device_client)
    assert status == 200, out
    event = WebhookEvent.objects.get()
    body = json.loads(event.body)
    assert body["type"] == "device.inventoried"
    assert body["id"] == event.event_id
    assert body["organization"] == "demo-org"
    assert body["data"]["device"]["id"] == out["device_id"]
    assert body["data"]["device"]["macs"] == ["00:e0:4c:92:f7:a4", "08:bf:b8:c0:c5:83"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.subscription, delivery.state, delivery.ordering_key) == (
        subscription,
        DeliveryState.PENDING,
        out["device_id"],
    )


def test_the_same_body_again_changes_nothing_and_sends_nothing(device_client, subscription):
    submit(device_client)
    submit(device_client)
    assert types() == ["device.inventoried"]
    changed = json.loads(json.dumps(DOC_SUBMIT))
    changed["inventory_data"]["device_name"] = "PVE-9999"
    submit(device_client, changed)
    assert types() == ["device.inventoried", "device.updated"]
    assert "name" in json.loads(WebhookEvent.objects.order_by("pk").last().body)["data"]["changed"]


def test_a_conflict_is_an_event_of_the_device_the_macs_name(device_client, subscription):
    submit(device_client)
    other = {"inventory_data": {"mac_address": ["eth0:02:00:00:00:00:77"], "serial_number": "S-2"}}
    submit(device_client, other)
    clash = {"inventory_data": {"mac_address": ["eth0:00:e0:4c:92:f7:a4"], "serial_number": "S-2"}}
    status, out = submit(device_client, clash)
    assert status == 409, out
    event = WebhookEvent.objects.get(type="device.conflict")
    data = json.loads(event.body)["data"]
    assert data["code"] == "identity_conflict"
    # The other device is of no organization: not named to the demo organization's listeners.
    assert data["device_ids"] == [event.device_id]


def test_imaging_report_sends_imaged_then_request_fulfilled(device_client, subscription, demo):
    _, out = submit(device_client)
    device_imaging_report(status="imaged", device_id=out["device_id"])
    assert types() == ["device.inventoried", "device.imaged", "request.fulfilled"]
    keys = set(WebhookDelivery.objects.values_list("ordering_key", flat=True))
    assert keys == {out["device_id"]}  # one device: delivered in this order


def test_a_change_that_rolls_back_leaves_no_event(device_client, subscription):
    _, out = submit(device_client)
    before = WebhookEvent.objects.count()
    inside = []

    @transaction.atomic
    def report_then_fail():
        device_imaging_report(status="failed", device_id=out["device_id"], reason="disk")
        inside.append(WebhookEvent.objects.count())  # written, inside the transaction
        raise RuntimeError("after the report")

    with pytest.raises(RuntimeError, match="after the report"):
        report_then_fail()
    assert inside == [before + 1]
    assert WebhookEvent.objects.count() == before
    assert WebhookDelivery.objects.count() == before
    assert Device.objects.get(pk=out["device_id"]).imaging_status == "ready_for_imaging"


@pytest.mark.django_db(transaction=True)
def test_emitting_outside_a_transaction_is_refused(subscription):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        webhook_emit(event_type="device.stuck", organization=None, ordering_key="x", data={})


def test_nobody_listening_writes_nothing(device_client, demo):
    submit(device_client)
    assert WebhookEvent.objects.count() == 0


def test_a_subscription_hears_only_its_types_and_organization(device_client, demo, staff_user):
    other = OrganizationFactory(name="Elsewhere")
    url = "http://127.0.0.1:9/hook"
    mine, _ = webhook_subscription_create(
        actor=staff_user, url=url, event_types=["device.inventoried"], organization="Demo Org"
    )
    webhook_subscription_create(
        actor=staff_user, url=url, event_types=["device.inventoried"], organization=other
    )
    webhook_subscription_create(actor=staff_user, url=url, event_types=["device.imaged"])
    submit(device_client)
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [mine.pk]


# --- delivery, in process, to a real receiver ----------------------------------------------------


def claim_and_deliver(now=None) -> list[str]:
    with httpx.Client(timeout=1.0) as client:
        return [outbox.deliver(client, i, now=now) for i in outbox.deliveries_claim(now=now)]


def test_a_delivery_is_signed_and_carries_the_event_id(device_client, subscription, receiver):
    submit(device_client)
    assert claim_and_deliver() == ["delivered"]
    (got,) = receiver.received
    event = WebhookEvent.objects.get()
    assert got.body == event.body.encode()
    assert got.headers["X-Arrow-Event-Id"] == event.event_id
    assert got.headers["X-Arrow-Event-Type"] == "device.inventoried"
    signature = got.headers["X-Arrow-Signature"]
    assert outbox.verify(subscription.secret, signature, got.body, now=got.at)
    assert not outbox.verify("another-secret-1234", signature, got.body, now=got.at)
    assert not outbox.verify(subscription.secret, signature, got.body + b" ", now=got.at)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    (attempt,) = WebhookAttempt.objects.all()
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "delivered", 204)


def test_a_failing_receiver_is_retried_later_and_the_device_waits(
    device_client, subscription, receiver, settings
):
    settings.ARROW_WEBHOOK_BACKOFF_BASE_S = 60
    receiver.failures = ["500"]
    _, out = submit(device_client)
    device_imaging_report(status="imaged", device_id=out["device_id"])
    assert claim_and_deliver() == ["retry"]  # only the first: the others wait for it
    delivery = WebhookDelivery.objects.order_by("pk").first()
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (
        "pending",
        500,
        "HTTP 500",
    )
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=29) <= wait <= timedelta(seconds=61)  # 60 s with jitter
    assert claim_and_deliver() == []  # not yet due; the later events still wait
    # Each event fails once: each waits its back-off, and the next event waits for it.
    clock, outcomes = timezone.now(), []
    for _ in range(8):
        clock += timedelta(seconds=61)
        outcomes += claim_and_deliver(now=clock)
    assert outcomes == ["delivered", "retry", "delivered", "retry", "delivered"]
    order = [r.payload["type"] for r in receiver.accepted()]
    assert order == ["device.inventoried", "device.imaged", "request.fulfilled"]


def test_a_delivery_is_given_up_after_the_maximum_attempts_and_redelivered(
    device_client, subscription, receiver, settings, admin_client
):
    settings.ARROW_WEBHOOK_MAX_ATTEMPTS = 2
    settings.ARROW_WEBHOOK_BACKOFF_BASE_S = 0
    receiver.failures = ["500", "500"]
    submit(device_client)
    assert claim_and_deliver() == ["retry"]
    assert claim_and_deliver() == ["failed"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    assert delivery.finished_at is not None
    response = admin_client.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "pending"
    assert claim_and_deliver() == ["delivered"]
    ids = {r.event_id for r in receiver.received}
    assert len(receiver.received) == 3
    assert len(ids) == 1
    log = admin_client.get(f"/api/webhook-deliveries/{delivery.pk}").json()["log"]
    assert [(a["number"], a["outcome"], a["status_code"]) for a in log] == [
        (3, "delivered", 204),
        (2, "failed", 500),
        (1, "retry", 500),
    ]


def test_a_delivery_older_than_the_maximum_age_is_given_up(device_client, subscription, settings):
    settings.ARROW_WEBHOOK_MAX_AGE_S = 60
    submit(device_client)
    WebhookSubscription.objects.update(url="http://127.0.0.1:9/closed")
    later = timezone.now() + timedelta(seconds=61)
    assert claim_and_deliver(now=later) == ["failed"]
    assert "ConnectError" in WebhookDelivery.objects.get().last_error


def test_the_secret_is_never_logged(device_client, subscription, receiver, caplog):
    receiver.failures = ["500"]
    submit(device_client)
    with caplog.at_level(logging.DEBUG):
        claim_and_deliver()
        claim_and_deliver(now=timezone.now() + timedelta(hours=2))
    assert "webhook delivery" in caplog.text
    assert subscription.secret not in caplog.text


def test_a_leased_delivery_is_not_claimed_twice(device_client, subscription):
    submit(device_client)
    assert len(outbox.deliveries_claim()) == 1
    assert outbox.deliveries_claim() == []
    expired = timezone.now() + timedelta(seconds=settings_lease() + 1)
    assert len(outbox.deliveries_claim(now=expired)) == 1  # a worker died: tried again


def settings_lease() -> float:
    from django.conf import settings

    return settings.ARROW_WEBHOOK_TIMEOUT_S + outbox.LEASE_MARGIN_S


# --- the admin API -------------------------------------------------------------------------------


@pytest.fixture
def org_admin(django_user_model, demo):
    user = django_user_model.objects.create_user("demo-admin", password="pw-admin-123")
    OrganizationMembership.objects.create(user=user, organization=demo["org"], is_admin=True)
    return user


def api_for(client, user) -> JsonClient:
    return JsonClient(client, {"Authorization": f"Bearer {api_token_create(user=user)}"})


def test_the_secret_is_shown_once_at_creation(admin_client, demo):
    body = {"url": "https://cmdb.example/hooks", "event_types": ["device.imaged"]}
    created = admin_client.post("/api/webhooks", body)
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 30
    listed = admin_client.get("/api/webhooks")
    assert secret not in listed.content.decode()
    one = admin_client.get(f"/api/webhooks/{created.json()['id']}")
    assert one.status_code == 200
    assert "secret" not in one.json()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://cmdb.example/x", "invalid_scheme"),
        ("javascript:alert(1)", "invalid_scheme"),
        ("file:///etc/passwd", "invalid_scheme"),
        ("http://", "invalid_url"),
        ("http://user:pw@cmdb.example/x", "invalid_url"),
        ("http://cmdb.example:99999/x", "invalid_url"),
        ("", "required"),
    ],
    ids=["ftp", "javascript", "file", "no host", "credentials", "port out of range", "empty"],
)
def test_a_url_that_is_not_http_is_refused_naming_the_field(admin_client, demo, url, code):
    response = admin_client.post("/api/webhooks", {"url": url, "event_types": ["device.imaged"]})
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["code"]) == ("url", code)
    assert WebhookSubscription.objects.count() == 0


def test_an_unknown_event_type_is_refused_naming_it(admin_client, demo):
    body = {"url": "http://127.0.0.1:9/", "event_types": ["device.imaged", "device.exploded"]}
    response = admin_client.post("/api/webhooks", body)
    assert response.status_code == 400
    assert response.json()["field"] == "event_types[1]"


def test_an_organization_admin_manages_its_own_organization_only(client, demo, org_admin):
    api = api_for(client, org_admin)
    other = OrganizationFactory(name="Elsewhere")
    body = {"url": "http://127.0.0.1:9/", "event_types": ["device.imaged"]}
    assert api.post("/api/webhooks", {**body, "organization": other.name}).status_code == 404
    assert api.post("/api/webhooks", body).status_code == 403  # every organization: staff only
    created = api.post("/api/webhooks", {**body, "organization": "Demo Org"})
    assert created.status_code == 201, created.json()
    sub_id = created.json()["id"]
    edited = api.patch(f"/api/webhooks/{sub_id}", {"active": False})
    assert edited.status_code == 200
    assert edited.json()["active"] is False
    assert [s["id"] for s in api.get("/api/webhooks").json()] == [sub_id]
    assert api.get(f"/api/webhooks/{sub_id}/deliveries").json() == []
    assert api.delete(f"/api/webhooks/{sub_id}").status_code == 204


def test_a_plain_member_sees_no_subscription(client, demo, django_user_model, staff_user):
    member = django_user_model.objects.create_user("plain", password="pw-plain-123")
    OrganizationMembership.objects.create(user=member, organization=demo["org"])
    sub, _ = webhook_subscription_create(
        actor=staff_user, url="http://127.0.0.1:9/", event_types=ALL, organization="Demo Org"
    )
    api = api_for(client, member)
    assert api.get("/api/webhooks").json() == []
    assert api.get(f"/api/webhooks/{sub.pk}").status_code == 404
    assert api.patch(f"/api/webhooks/{sub.pk}", {"active": False}).status_code == 404
    assert api.delete(f"/api/webhooks/{sub.pk}").status_code == 404
    assert WebhookSubscription.objects.get().active is True


def test_deliveries_of_a_subscription_are_listed_with_their_log(
    admin_client, device_client, subscription, receiver
):
    submit(device_client)
    claim_and_deliver()
    rows = admin_client.get(f"/api/webhooks/{subscription.pk}/deliveries").json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["event_type"], row["state"], row["attempts"]) == (
        "device.inventoried",
        "delivered",
        1,
    )
    assert row["log"][0]["status_code"] == 204
    assert row["log"][0]["duration_ms"] >= 0
    assert admin_client.post("/api/webhook-deliveries/999999/redeliver").status_code == 404


def test_metrics_count_delivery_tries_by_outcome(
    client, device_client, subscription, receiver, settings
):
    from prometheus_client.parser import text_string_to_metric_families

    settings.ARROW_METRICS_TOKEN = "metrics-token"
    receiver.failures = ["500"]
    submit(device_client)
    claim_and_deliver()
    claim_and_deliver(now=timezone.now() + timedelta(hours=2))
    response = client.get("/metrics", headers={"Authorization": "Bearer metrics-token"})
    found = {
        (s.name, tuple(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }
    assert found[("arrow_webhook_deliveries_total", (("outcome", "delivered"),))] == 1
    assert found[("arrow_webhook_deliveries_total", (("outcome", "retry"),))] == 1
    assert found[("arrow_webhook_deliveries_total", (("outcome", "failed"),))] == 0
    assert found[("arrow_webhook_deliveries_by_state", (("state", "delivered"),))] == 1
    assert found[("arrow_webhook_deliveries_by_state", (("state", "pending"),))] == 0


def test_organization_member_command_makes_an_admin(demo, django_user_model):
    from django.core.management import call_command

    django_user_model.objects.create_user("ops", password="pw-ops-12345")
    call_command("organization_member", "ops", "demo-org", "--admin", stdout=open(os.devnull, "w"))  # noqa: SIM115
    membership = OrganizationMembership.objects.get(user__username="ops")
    assert (membership.organization, membership.is_admin) == (demo["org"], True)
    call_command("organization_member", "ops", "Demo Org", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert OrganizationMembership.objects.get(user__username="ops").is_admin is False


def test_a_stuck_device_is_told_once_per_stuck_step(subscription, settings):
    from inventory.choices import BootStep
    from inventory.models import BootEvent

    settings.ARROW_STUCK_AFTER_S = 300
    device = DeviceMacFactory(mac="02:5c:00:00:00:09").device
    step = BootEvent.objects.create(mac="02:5c:00:00:00:09", step=BootStep.INITRD, device=device)
    assert outbox.stuck_scan() == 0  # moving
    BootEvent.objects.filter(pk=step.pk).update(at=timezone.now() - timedelta(minutes=6))
    assert outbox.stuck_scan() == 1
    assert outbox.stuck_scan() == 0  # the same stuck step: once
    data = json.loads(WebhookEvent.objects.get(type="device.stuck").body)["data"]
    assert data["step"] == "initrd"
    assert data["device"]["id"] == device.pk
    assert "agent never started" in data["hint"]


def test_an_operator_fulfilling_a_request_sends_request_fulfilled_once(
    admin_client, subscription, demo
):
    req = demo["request"]
    body = {"organization": "Demo Org", "target_macs": ["00:e0:4c:92:f7:a4"], "status": "fulfilled"}
    assert admin_client.put(f"/api/requests/{req.pk}", body).status_code == 200
    assert admin_client.put(f"/api/requests/{req.pk}", body).status_code == 200  # no change
    event = WebhookEvent.objects.get()
    assert (event.type, event.ordering_key) == ("request.fulfilled", f"request:{req.pk}")
    assert json.loads(event.body)["data"]["request"]["status"] == "fulfilled"


def test_a_paused_subscription_keeps_its_deliveries_until_it_is_active_again(
    device_client, subscription, receiver
):
    submit(device_client)
    WebhookSubscription.objects.update(active=False)
    assert claim_and_deliver() == []
    WebhookSubscription.objects.update(active=True)
    assert claim_and_deliver() == ["delivered"]
