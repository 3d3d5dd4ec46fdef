"""Every admin API operation is reachable at the path and method the OpenAPI schema documents."""

import pytest

from arrow.api import api

pytestmark = pytest.mark.django_db


def _operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        if path.startswith("/api/inventory/"):
            continue
        for method in methods:
            yield method, path.replace("{", "").replace("}", "")


@pytest.mark.parametrize(("method", "path"), sorted(_operations()))
def test_documented_admin_operation_is_routed_to_its_handler(admin_client, method, path):
    # Path parameters are filled with their own names: unknown ids, never a 405.
    body = "" if method in ("get", "delete") else "{}"
    response = admin_client.client.generic(
        method.upper(), path, body, content_type="application/json", headers=admin_client.headers
    )
    assert response.status_code != 405, f"{method.upper()} {path} is shadowed by another route"


def test_quick_add_through_the_admin_api_creates_a_flagged_device(admin_client, demo):
    response = admin_client.post(
        "/api/devices/quick-add", {"mac_address": "08-BF-B8-C0-C5-83", "organization": "Demo Org"}
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["inventory_status"] == "manually_added"
    assert out["flagged_for_inventory"] is True
    assert [m["mac"] for m in out["macs"]] == ["08:bf:b8:c0:c5:83"]


def test_quick_add_bulk_through_the_admin_api(admin_client, demo):
    response = admin_client.post(
        "/api/devices/quick-add/bulk",
        {"organization": "Demo Org", "macs": ["08:bf:b8:c0:c5:83", "nope"]},
    )
    assert response.status_code == 200, response.content
    assert [line["outcome"] for line in response.json()] == ["added", "invalid"]
