"""/metrics: fail closed without a token, the token in constant time, fleet gauges from the DB."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token"


def samples(text: str) -> dict:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_without_a_configured_token_metrics_are_refused_to_everyone(client, settings):
    settings.ARROW_METRICS_TOKEN = ""
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 503
        assert b"ARROW_METRICS_TOKEN" in response.content


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"]
)
def test_a_missing_or_wrong_token_is_401(client, settings, header):
    settings.ARROW_METRICS_TOKEN = TOKEN
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"arrow_" not in response.content


def test_the_token_gets_the_fleet_from_the_database(client, settings):
    settings.ARROW_METRICS_TOKEN = TOKEN
    DeviceFactory.create_batch(2)
    DeviceFactory(imaging_status="imaged")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response.content.decode())
    assert found[("arrow_devices", (("inventory_status", "newly_inventoried"),))] == 3
    assert found[("arrow_devices_imaging", (("imaging_status", "imaged"),))] == 1
    assert found[("arrow_devices_imaging", (("imaging_status", "failed"),))] == 0
    assert found[("arrow_open_conflicts", ())] == 0
    assert found[("arrow_stuck_devices", ())] == 0


@pytest.mark.parametrize(
    "body", [{"mac_address": "nope"}, {"mac_address": 5}, {"mac": "00:e0:4c:92:f7:a4"}]
)
def test_a_check_mac_its_schema_refuses_counts_as_an_error(device_client, body):
    from prometheus_client import REGISTRY

    def errors():
        return REGISTRY.get_sample_value("arrow_check_mac_total", {"outcome": "error"}) or 0

    before = errors()
    assert device_client.post("/api/inventory/check-mac", body).status_code == 400
    assert errors() == before + 1
