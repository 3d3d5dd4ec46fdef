"""The submit body's schema (inventory/schemas.py): what it accepts, and the field and code of
every refusal. No database: the schema is pure."""

import json

import pytest

from arrow_agent.collectors.modem import luhn_ok
from inventory.errors import ValidationFailed
from inventory.schemas import SubmitIn, parse_body
from tests.conftest import DOC_SUBMIT


def validate_submission(document):
    """The InventoryData of *document* as the submit service reads it (JSON, then the schema)."""
    return decode_body(json.dumps(document).encode())


def decode_body(raw: bytes):
    return parse_body(raw, SubmitIn).inventory_data.to_data()


def body(**changes):
    data = dict(DOC_SUBMIT["inventory_data"])
    data.update(changes)
    return {"inventory_data": data}


def test_documentation_example_is_valid_and_warns_about_its_imei():
    data = validate_submission(DOC_SUBMIT)
    assert [(m.interface, m.mac) for m in data.macs] == [
        ("eth0", "00:e0:4c:92:f7:a4"),
        ("wlo1", "08:bf:b8:c0:c5:83"),
    ]
    assert data.imei == "123456789012345"
    assert "Luhn" in data.warnings[0]


def test_bare_macs_and_any_form_are_accepted():
    data = validate_submission(body(mac_address=["00-E0-4C-92-F7-A4", "wwan0:00E04C92F7A5"]))
    assert [(m.interface, m.mac) for m in data.macs] == [
        ("", "00:e0:4c:92:f7:a4"),
        ("wwan0", "00:e0:4c:92:f7:a5"),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"mac_address": []}, "inventory_data.mac_address", "required"),
        ({"mac_address": "eth0:00:e0:4c:92:f7:a4"}, "inventory_data.mac_address", "type"),
        ({"mac_address": ["eth0:zz"]}, "inventory_data.mac_address[0]", "invalid_mac"),
        ({"mac_address": ["eth0:00:e0:4c:92:f7:a4", 5]}, "inventory_data.mac_address[1]", "type"),
        (
            {"mac_address": ["eth0:00:e0:4c:92:f7:a4", "eth1:00-E0-4C-92-F7-A4"]},
            "inventory_data.mac_address[1]",
            "duplicate_mac",
        ),
        (
            {
                "mac_address": [
                    f"e{i}:02:00:00:00:{i // 256:02x}:{i % 256:02x}" for i in range(10000)
                ]
            },
            "inventory_data.mac_address",
            "too_many",
        ),
        ({"imei": "12345"}, "inventory_data.imei", "invalid_imei"),
        ({"imei": 123456789012345}, "inventory_data.imei", "type"),
        ({"imei": "\uff11" * 15}, "inventory_data.imei", "invalid_imei"),
        ({"sn_source": "guess"}, "inventory_data.sn_source", "invalid_choice"),
        ({"has_modem": "yes"}, "inventory_data.has_modem", "type"),
        ({"serial_number": 42}, "inventory_data.serial_number", "type"),
        ({"serial_number": "A\x00B"}, "inventory_data.serial_number", "control_characters"),
        ({"device_name": "x" * 500}, "inventory_data.device_name", "too_long"),
        ({"hardware": [1, 2]}, "inventory_data.hardware", "type"),
        ({"colour": "blue"}, "inventory_data.colour", "unknown_field"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_fields_are_named(changes, field, code):
    with pytest.raises(ValidationFailed) as err:
        validate_submission(body(**changes))
    assert err.value.field == field
    assert err.value.code == code


@pytest.mark.parametrize(
    "document", [None, [], "text", {"inventory_data": None}, {"mac_address": ["x"]}]
)
def test_wrong_document_shapes_are_rejected(document):
    with pytest.raises(ValidationFailed) as err:
        validate_submission(document)
    assert err.value.field == "inventory_data"


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"not json", "invalid_json"), (b"\xff\xfe", "invalid_json"), (b"[" * 100000, "too_deep")],
)
def test_undecodable_bodies_name_the_body(raw, code):
    with pytest.raises(ValidationFailed) as err:
        decode_body(raw)
    assert (err.value.field, err.value.code) == ("body", code)


def test_luhn():
    assert luhn_ok("490154203237518")
    assert not luhn_ok("123456789012345")


def test_every_error_is_listed_at_once():
    with pytest.raises(ValidationFailed) as err:
        validate_submission(body(imei="1", sn_source="x", has_modem="no"))
    fields = {e["field"] for e in err.value.extra["errors"]}
    assert fields == {"inventory_data.imei", "inventory_data.sn_source", "inventory_data.has_modem"}
    assert json.dumps(err.value.as_dict())


@pytest.mark.parametrize(
    "text",
    ["00:e0:4c:92:f7:a4:11", "ab:00:e0:4c:92:f7:a4", "00-e0-4c-92-f7-a4-11", "0:0:e0:4c:92:f7:a4"],
)
def test_a_mac_with_too_many_octets_is_not_read_as_interface_and_mac(text):
    from inventory.services.macs import InvalidMac, parse_reported_mac

    with pytest.raises(InvalidMac) as err:
        parse_reported_mac(text, field="f")
    assert (err.value.code, err.value.field) == ("invalid_mac", "f")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ABC\x9b31m", "control_characters"),  # C1 CSI
        ("ABC\x85", "control_characters"),  # C1 NEL
        ("ABC\x7f", "control_characters"),
        ("ABC\ud800", "invalid_unicode"),
    ],
    ids=["C1 CSI", "C1 NEL", "DEL", "lone surrogate"],
)
def test_serial_with_c1_controls_or_surrogates_is_refused(text, code):
    with pytest.raises(ValidationFailed) as err:
        validate_submission(body(serial_number=text))
    assert (err.value.field, err.value.code) == ("inventory_data.serial_number", code)


H = "inventory_data.hardware"


@pytest.mark.parametrize(
    ("hardware", "field", "code"),
    [
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {
            "n": {"o": {"p": {"q": 1}}}}}}}}}}}}}}}}}, H, "too_deep"),
        ({"list": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}, H, "too_deep"),
        ({"bios": "v\x001"}, f"{H}.bios", "control_characters"),
        ({"bios\x00": "v1"}, H, "control_characters"),
        ({"disks": [{"model": "\udfff"}]}, f"{H}.disks[0].model", "invalid_unicode"),
        ({"cpu": {"mhz": float("nan")}}, f"{H}.cpu.mhz", "non_finite"),
        ({"cpu": [float("inf")]}, f"{H}.cpu[0]", "non_finite"),
    ],
    ids=["nested objects", "nested lists", "NUL in a value", "NUL in a key", "surrogate", "NaN",
         "Infinity"],
)  # fmt: skip
def test_hardware_that_postgresql_cannot_store_is_refused(hardware, field, code):
    with pytest.raises(ValidationFailed) as err:
        validate_submission(body(hardware=hardware))
    assert (err.value.field, err.value.code) == (field, code)


def test_hardware_with_tabs_newlines_and_unicode_is_kept():
    facts = {"dmi": "Line 1\n\tLine 2", "name": "Ünïcödé ☃", "nested": [[{"a": [1]}]]}
    assert validate_submission(body(hardware=facts)).hardware == facts
