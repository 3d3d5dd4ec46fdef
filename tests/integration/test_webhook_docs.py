"""docs/webhooks.md is true: its receiver code verifies a real delivery (and refuses a forged
or stale one), and its example body is what the documented submission sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from inventory.models import WebhookEvent
from inventory.services import outbox
from inventory.services.webhooks import webhook_subscription_create
from tests.conftest import DOC_SUBMIT
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
# Values that differ from one run to the next; everything else must be as documented.
VARYING = {"created_at", "id", "request", "submission"}


def block(language: str) -> str:
    (found,) = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    return found


@pytest.fixture
def delivered(demo, staff_user, device_client):
    """The documented submission, delivered by the worker's code to a real receiver."""
    receiver = Receiver().start()
    try:
        _, secret = webhook_subscription_create(
            actor=staff_user, url=receiver.url, event_types=["device.inventoried"]
        )
        assert device_client.post("/api/inventory/submit", DOC_SUBMIT).status_code == 200
        with httpx.Client(timeout=5) as client:
            assert [outbox.deliver(client, i) for i in outbox.deliveries_claim()] == ["delivered"]
        (got,) = receiver.received
        return secret, got
    finally:
        receiver.stop()


def test_the_documented_receiver_code_verifies_a_real_delivery(delivered):
    secret, got = delivered
    namespace: dict = {}
    exec(compile(block("python"), str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    verify = namespace["verify_arrow_signature"]
    header = got.headers["X-Arrow-Signature"]
    assert verify(secret, header, got.body) is True
    assert verify("whsec_not-the-secret-123", header, got.body) is False
    assert verify(secret, header, got.body.replace(b"PVE-1234", b"PVE-4321")) is False
    stale = re.sub(r"t=(\d+)", lambda m: f"t={int(m[1]) - 301}", header)
    assert verify(secret, stale, got.body) is False
    assert verify(secret, "v1=" + header.split("v1=")[1], got.body) is False


def same_shape(shown, real, key=""):
    if isinstance(shown, dict):
        assert isinstance(real, dict), key
        assert shown.keys() == real.keys(), key
        for k in shown:
            if k not in VARYING:
                same_shape(shown[k], real[k], f"{key}.{k}")
    else:
        assert shown == real, key


def test_the_documented_body_is_the_one_sent(delivered):
    _, got = delivered
    shown = json.loads(block("json"))
    same_shape(shown, got.payload)
    assert got.payload["id"] == WebhookEvent.objects.get().event_id
    assert got.headers["X-Arrow-Event-Type"] == shown["type"]
