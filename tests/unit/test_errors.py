"""pydantic's errors as ours (inventory/errors.py): the field path and the stable code, from a
table of the errors pydantic gives, with and without the input (ninja drops it)."""

from __future__ import annotations

import pytest

from inventory.errors import field_path, validation_failed


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), "body"),
        (("mac_address",), "mac_address"),
        (("inventory_data", "mac_address", 1), "inventory_data.mac_address[1]"),
        (("inventory_data", "hardware", "disks", 0, "gb"), "inventory_data.hardware.disks[0].gb"),
        (("inventory_data", "hardware", "0"), "inventory_data.hardware.0"),
    ],
    ids=["nothing is the body", "a field", "a list item", "nested", "a key made of digits"],
)
def test_a_location_becomes_the_field_path(loc, path):
    assert field_path(loc) == path


def error(type_, loc, **more):
    return {"type": type_, "loc": loc, "msg": f"pydantic says {type_}", **more}


@pytest.mark.parametrize(
    ("given", "field", "code", "message"),
    [
        (error("missing", ("a",), input={}), "a", "required", "is required"),
        (error("extra_forbidden", ("a", "b"), input=1), "a.b", "unknown_field", "unknown field"),
        (error("string_type", ("a",), input=42), "a", "type", "must be a string, got a number"),
        (error("string_type", ("a",), input=None), "a", "required", "is required, got null"),
        (error("string_type", ("a", 1), input=None), "a[1]", "type",
         "must be a string, got null"),
        (error("dict_type", ("a",), input=[1]), "a", "type", "must be an object, got a list"),
        (error("string_type", ("a",)), "a", "type", "must be a string"),
        (error("bool_type", ("a",), input="yes"), "a", "type", "must be true or false, got 'yes'"),
        (error("too_long", ("a",), input=[1] * 9, ctx={"max_length": 3, "actual_length": 9}),
         "a", "too_many", "9 items; at most 3 are accepted"),
        (error("too_short", ("a",), input=[], ctx={"min_length": 1}), "a", "required",
         "at least 1 item(s) are required"),
        (error("duplicate_mac", ("macs",), input=[], ctx={"at": (2,)}), "macs[2]",
         "duplicate_mac", "pydantic says duplicate_mac"),
        (error("int_parsing", ("page",), input="x"), "page", "int_parsing",
         "pydantic says int_parsing"),
    ],
    ids=["missing", "extra", "wrong type", "null field", "null item", "a list for an object",
         "no input (ninja)", "bool", "too many", "empty list", "a rule naming its item",
         "a type without a code of ours"],
)  # fmt: skip
def test_a_pydantic_error_becomes_ours(given, field, code, message):
    exc = validation_failed([given])
    assert exc.extra["errors"] == [{"field": field, "code": code, "message": message}]
    assert (exc.field, exc.code, exc.status_code) == (field, code, 400)
    assert exc.message == f"{field}: {message}"
