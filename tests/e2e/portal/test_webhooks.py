"""Webhooks in a real browser: a staff operator creates a subscription (the secret shown once),
a failing receiver's tries appear in the delivery log, and Redeliver queues a delivery again."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.utils import timezone
from playwright.sync_api import expect

from inventory.models import WebhookDelivery, WebhookSubscription
from inventory.services import outbox
from inventory.services.pxe import device_imaging_report
from tests.factories import DeviceMacFactory
from tests.webhook_receiver import Receiver


def deliver_due(now=None) -> list[str]:
    """What the worker does once (its functions, in this process: the live server's database)."""
    with httpx.Client(timeout=2) as client:
        return [outbox.deliver(client, i, now=now) for i in outbox.deliveries_claim(now=now)]


def test_create_a_webhook_follow_its_deliveries_and_redeliver(staff_page, orgs):
    page = staff_page
    receiver = Receiver(failures=["500"]).start()
    try:
        page.get_by_role("link", name="Organizations").click()  # staff reach it from here
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_role("link", name="New webhook").click()
        form = page.get_by_test_id("webhook-form")
        form.get_by_label("URL").fill("ftp://cmdb.example/")
        form.get_by_label("Imaging failed").check()
        form.get_by_role("button", name="Create").click()
        expect(page.get_by_test_id("webhook-form")).to_contain_text("only http:// and https://")

        form = page.get_by_test_id("webhook-form")
        form.get_by_label("URL").fill(receiver.url)
        form.get_by_label("Description").fill("CMDB")
        form.get_by_role("button", name="Create").click()
        sub = WebhookSubscription.objects.get()
        expect(page.get_by_test_id("secret")).to_have_text(sub.secret)
        assert sub.event_types == ["device.imaging_failed"]

        page.get_by_role("link", name="Go to the webhook").click()
        expect(page.get_by_test_id("deliveries")).to_contain_text("No delivery yet")
        assert sub.secret not in page.content()

        device = DeviceMacFactory(device__organization=orgs["own"]).device
        device_imaging_report(status="failed", device_id=device.pk, reason="disk not found")
        assert deliver_due() == ["retry"]
        page.reload()
        delivery = WebhookDelivery.objects.get()
        row = page.get_by_test_id(f"delivery-{delivery.pk}")
        expect(row).to_contain_text("device.imaging_failed")
        expect(row.get_by_test_id("state")).to_contain_text("pending")
        expect(row.get_by_test_id("log")).to_contain_text("retry · 500 · HTTP 500")

        assert deliver_due(now=timezone.now() + timedelta(hours=1)) == ["delivered"]
        page.reload()
        row = page.get_by_test_id(f"delivery-{delivery.pk}")
        expect(row.get_by_test_id("state")).to_have_text("delivered")
        expect(row.get_by_test_id("log")).to_contain_text("delivered · 204")

        row.get_by_role("button", name="Redeliver").click()
        expect(page.get_by_test_id("message-success")).to_contain_text("queued again")
        row = page.get_by_test_id(f"delivery-{delivery.pk}")
        expect(row.get_by_test_id("state")).to_contain_text("pending")
        assert deliver_due() == ["delivered"]
        assert len({r.event_id for r in receiver.received}) == 1
        assert len(receiver.accepted()) == 2  # the same event, redelivered
        assert page.external_requests == []
    finally:
        receiver.stop()
