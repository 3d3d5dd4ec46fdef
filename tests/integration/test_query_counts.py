"""check-mac and submit issue the same number of queries whatever the size of the database."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import DOC_SUBMIT
from tests.factories import DeviceMacFactory, DeviceSpecFactory

pytestmark = pytest.mark.django_db


def count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def submit_body(i: int) -> dict:
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["mac_address"] = [f"eth0:02:00:00:02:00:{i:02x}"]
    body["inventory_data"]["serial_number"] = f"QC-{i}"
    return body


def test_check_mac_is_one_query_for_any_database_size(device_client, demo):
    small = count(
        lambda: device_client.post("/api/inventory/check-mac", {"mac_address": "00:e0:4c:92:f7:a4"})
    )
    DeviceMacFactory.create_batch(200)
    DeviceSpecFactory.create_batch(20)
    large = count(
        lambda: device_client.post("/api/inventory/check-mac", {"mac_address": "00:e0:4c:92:f7:a4"})
    )
    assert small == large == 1


def test_submit_query_count_does_not_grow_with_devices(device_client, demo):
    first = count(lambda: device_client.post("/api/inventory/submit", submit_body(1)))
    DeviceMacFactory.create_batch(200)
    second = count(lambda: device_client.post("/api/inventory/submit", submit_body(2)))
    assert first == second
    assert first <= 20


def test_resubmit_query_count_does_not_grow_with_devices(device_client, demo):
    device_client.post("/api/inventory/submit", submit_body(3))
    first = count(lambda: device_client.post("/api/inventory/submit", submit_body(3)))
    DeviceMacFactory.create_batch(200)
    second = count(lambda: device_client.post("/api/inventory/submit", submit_body(3)))
    assert first == second
