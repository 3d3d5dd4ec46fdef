"""The OpenAPI document of the service bodies is generated from their schemas
(inventory/schemas.py): strict objects, the enums of inventory/choices.py, the required fields,
and the documentation's example, which the schema accepts."""

from __future__ import annotations

import json

import pytest

from inventory.choices import ADMIN_STATUSES, REPORTED_SN_SOURCES
from inventory.schemas import MAX_MACS, SUBMIT_EXAMPLE_FILE, SubmitIn, parse_body

pytestmark = pytest.mark.django_db

EXAMPLE = SUBMIT_EXAMPLE_FILE  # the documentation's example, where the schema reads it


@pytest.fixture
def document(client):
    """The document as /api/openapi.json serves it."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def body_schema(document: dict, path: str) -> dict:
    schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return resolve(document, schema["schema"])


def resolve(document: dict, node: dict) -> dict:
    """*node*, or the component its ``$ref`` names."""
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/components/schemas/"), ref
    return document["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def nullable(node: dict) -> dict:
    """The non-null branch of ``anyOf: [X, null]``."""
    (branch,) = [b for b in node["anyOf"] if b != {"type": "null"}]
    return branch


def test_submit_body_is_a_strict_object_with_inventory_data_required(document):
    submit = body_schema(document, "/api/inventory/submit")
    assert document["paths"]["/api/inventory/submit"]["post"]["requestBody"]["required"] is True
    assert submit["additionalProperties"] is False
    assert submit["required"] == ["inventory_data"]
    data = resolve(document, submit["properties"]["inventory_data"])
    assert data["additionalProperties"] is False
    assert data["required"] == ["mac_address"]
    # The documentation's fields, and the agent's free-form hardware facts.
    documented = set(json.loads(EXAMPLE.read_text())["inventory_data"])
    assert set(data["properties"]) == documented | {"hardware"}
    macs = data["properties"]["mac_address"]
    assert (macs["type"], macs["items"]["type"]) == ("array", "string")
    assert (macs["minItems"], macs["maxItems"]) == (1, MAX_MACS)
    assert nullable(data["properties"]["has_modem"]) == {"type": "boolean"}
    assert nullable(data["properties"]["hardware"])["type"] == "object"


def test_submit_sn_source_enum_is_the_reported_sources_of_the_choices(document):
    data = resolve(
        document, body_schema(document, "/api/inventory/submit")["properties"]["inventory_data"]
    )
    enum = nullable(data["properties"]["sn_source"])["enum"]
    assert enum == [s.value for s in REPORTED_SN_SOURCES]
    assert "manual" not in enum  # set by an operator only


def test_submit_document_has_no_reference_it_cannot_resolve(document):
    text = json.dumps(document["paths"]["/api/inventory/submit"])
    assert "#/$defs/" not in text


def test_submit_example_is_the_documentations_and_the_schema_accepts_it(document):
    submit = body_schema(document, "/api/inventory/submit")
    doc_example = json.loads(EXAMPLE.read_text())
    assert submit["examples"] == [doc_example]
    assert parse_body(EXAMPLE.read_bytes(), SubmitIn).inventory_data.mac_address


def test_update_status_body_is_strict_with_the_admin_statuses(document):
    update = body_schema(document, "/api/inventory/update-status")
    assert update["additionalProperties"] is False
    assert sorted(update["required"]) == ["device_ids", "new_status"]
    assert update["properties"]["new_status"]["enum"] == [s.value for s in ADMIN_STATUSES]
    ids = update["properties"]["device_ids"]
    assert (ids["type"], ids["items"]["type"], ids["minItems"]) == ("array", "string", 1)


def test_check_mac_body_is_strict_with_mac_address_required(document):
    check = body_schema(document, "/api/inventory/check-mac")
    assert check["additionalProperties"] is False
    assert check["required"] == ["mac_address"]
    assert check["properties"]["mac_address"]["type"] == "string"
