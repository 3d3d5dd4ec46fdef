"""The webhook worker as production runs it (`manage.py webhook_worker`, two of them) against
the test database on PostgreSQL, delivering to a real receiver on 127.0.0.1 that fails each
event's first tries on purpose (a 500, an answer slower than the timeout, a 500) and then
accepts: every event arrives, signed, in order per device, duplicates only under one event id;
a change that rolled back is never sent."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.choices import BootStep, WebhookEventType
from inventory.models import BootEvent, Device, WebhookDelivery, WebhookEvent
from inventory.services.catalog import spec_save
from inventory.services.outbox import verify
from inventory.services.pxe import device_imaging_report, pxe_boot
from inventory.services.webhooks import webhook_subscription_create
from tests.conftest import DOC_MAC, DOC_SUBMIT
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ALL = WebhookEventType.values  # every type there is, so a new one is covered too
DEVICES = 4
STUCK_MAC = "02:5c:00:00:00:01"


def database_url() -> str:
    db = connection.settings_dict  # the test database this test writes to
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ARROW_WEBHOOK_TIMEOUT_S": "1",
        "ARROW_WEBHOOK_BACKOFF_BASE_S": "0.2",
        "ARROW_WEBHOOK_BACKOFF_MAX_S": "1",
        "ARROW_WEBHOOK_POLL_S": "0.1",
        "ARROW_WEBHOOK_STUCK_SCAN_S": "0.5",
    }
    out = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_worker"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "webhook worker started" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return proc


@pytest.fixture
def workers(tmp_path):
    procs = [start_worker(tmp_path / f"worker-{n}.log") for n in range(2)]
    yield procs
    for proc, sig in zip(procs, (signal.SIGTERM, signal.SIGINT), strict=True):
        proc.send_signal(sig)  # a supervisor's stop, and Ctrl-C
    for n, proc in enumerate(procs):
        assert proc.wait(timeout=30) == 0
        assert "webhook worker stopped" in (tmp_path / f"worker-{n}.log").read_text()


@pytest.fixture
def receiver():
    r = Receiver(failures=["500", "timeout", "500"], stall_s=2.5).start()
    yield r
    r.stop()


def submit(device_client, n: int, name: str) -> str:
    body = {"inventory_data": {"mac_address": [f"eth0:02:00:00:00:{n:02x}:01"],
                               "serial_number": f"SN-HOOK-{n}", "device_name": name}}  # fmt: skip
    response = device_client.post("/api/inventory/submit", body)
    assert response.status_code == 200, response.json()
    return response.json()["device_id"]


def submit_failing_spec(device_client) -> None:
    """A device whose hardware falls short of its spec's requirements: device.fails_spec, as
    the submission that finds it emits it."""
    spec_save(name="Hook Box", name_patterns=["*HOOKBOX*"], requirements={"min_memory_gib": 32})
    hardware = {"memory_modules": [{"slot": "DIMM 0", "size_mb": 16384}]}
    body = {"inventory_data": {"mac_address": ["eth0:02:00:00:00:f0:01"],
                               "serial_number": "SN-HOOK-SPEC", "device_name": "hook-spec",
                               "device_spec": "HOOKBOX-1", "hardware": hardware}}  # fmt: skip
    response = device_client.post("/api/inventory/submit", body)
    assert response.status_code == 200, response.json()
    assert response.json()["spec_mismatches"] == ["expected 32 GiB memory, found 16 GiB"]


@transaction.atomic
def fail_imaging_then_roll_back(device_id: str) -> None:
    device_imaging_report(status="failed", device_id=device_id, reason="rolled back")
    raise RuntimeError("the change is undone")


def make_changes(device_client, settings) -> str:
    """Every kind of event, for several devices at once; returns the device whose imaging
    failure rolled back."""
    settings.ARROW_IMAGING_URL = "http://imaging.example/{mac}"
    ids = [submit(device_client, n, f"rack-{n}") for n in range(DEVICES)]
    for n, device_id in enumerate(ids):
        submit(device_client, n, f"rack-{n}-renamed")
        if n % 2 == 0:
            pxe_boot(mac_text=f"02:00:00:00:{n:02x}:01")
            device_imaging_report(status="imaged", device_id=device_id)
    # The demo's request: its device is inventoried, imaged, and so fulfils it.
    response = device_client.post("/api/inventory/submit", DOC_SUBMIT)
    assert response.status_code == 200, response.json()
    pxe_boot(mac_text=DOC_MAC)
    device_imaging_report(status="imaged", device_id=response.json()["device_id"])
    clash = {"inventory_data": {"mac_address": ["eth0:02:00:00:00:00:01"],
                                "serial_number": "SN-HOOK-1"}}  # fmt: skip
    assert device_client.post("/api/inventory/submit", clash).status_code == 409
    submit_failing_spec(device_client)
    rolled_back = ids[1]
    with pytest.raises(RuntimeError, match="undone"):
        fail_imaging_then_roll_back(rolled_back)
    event = BootEvent.objects.create(mac=STUCK_MAC, step=BootStep.KERNEL)
    BootEvent.objects.filter(pk=event.pk).update(at=timezone.now() - timedelta(minutes=10))
    return rolled_back


def first_try_at(receiver: Receiver, event_id: str) -> float:
    return min(r.at for r in receiver.received if r.event_id == event_id)


def accepted_at(receiver: Receiver, event_id: str) -> float:
    return min(r.at for r in receiver.accepted() if r.event_id == event_id)


def test_every_event_arrives_signed_in_order_per_device(
    demo, staff_user, device_client, settings, receiver, workers
):
    sub, secret = webhook_subscription_create(actor=staff_user, url=receiver.url, event_types=ALL)
    rolled_back = make_changes(device_client, settings)

    def all_delivered() -> bool:
        pending = WebhookDelivery.objects.exclude(state="delivered").exists()
        stuck_sent = WebhookEvent.objects.filter(type="device.stuck").exists()
        return stuck_sent and not pending

    receiver.wait_for(all_delivered, timeout=180, what="every delivery delivered")
    events = list(WebhookEvent.objects.order_by("pk"))
    kinds = {e.type for e in events}
    assert kinds == set(ALL) - {"device.imaging_failed"}, kinds  # the rolled-back one: never
    accepted = receiver.accepted()
    # Every event arrived, byte for byte, signed with the subscription's secret.
    assert {r.event_id for r in accepted} == {e.event_id for e in events}
    bodies = {e.event_id: e.body.encode() for e in events}
    for r in receiver.received:
        assert r.body == bodies[r.event_id]  # a duplicate is the same event, same id
        assert r.payload["id"] == r.event_id
        assert verify(secret, r.headers["X-Arrow-Signature"], r.body, now=r.at)
    # Each event was refused three times first (500, timeout, 500), then accepted once.
    for delivery in WebhookDelivery.objects.all():
        assert delivery.attempts == 4, delivery
        outcomes = list(delivery.log.order_by("number").values_list("outcome", flat=True))
        assert outcomes == ["retry", "retry", "retry", "delivered"]
    # Per device: a later event is not even tried before the earlier one was accepted.
    by_key: dict[str, list[WebhookEvent]] = {}
    for e in events:
        by_key.setdefault(e.ordering_key, []).append(e)
    assert len(by_key) >= DEVICES
    for key, seq in by_key.items():
        for earlier, later in itertools.pairwise(seq):
            assert first_try_at(receiver, later.event_id) >= accepted_at(
                receiver, earlier.event_id
            ), (key, earlier.type, later.type)
    rack0 = [e.type for e in by_key[Device.objects.get(name="rack-0-renamed").pk]]
    assert rack0 == [
        "device.inventoried",
        "device.updated",
        "device.sent_to_imaging",
        "device.imaged",
        "device.conflict",  # its MACs, rack-1's serial
    ]
    requested = [e.type for e in by_key[Device.objects.get(name="PVE-1234").pk]]
    assert requested == [
        "device.inventoried",
        "device.sent_to_imaging",
        "device.imaged",
        "request.fulfilled",
    ]
    failing = [e.type for e in by_key[Device.objects.get(name="hook-spec").pk]]
    assert failing == ["device.inventoried", "device.fails_spec"]
    assert not [r for r in receiver.received if rolled_back in r.body.decode()
                and "imaging_failed" in r.body.decode()]  # fmt: skip
    stuck = next(e for e in events if e.type == "device.stuck")
    assert json.loads(stuck.body)["data"]["mac"] == STUCK_MAC
    assert WebhookEvent.objects.filter(type="device.stuck").count() == 1  # once, two workers
    assert sub.deliveries.count() == len(events)
