"""Hostile input on the service endpoints, one row per kind of attack or accident.

Each must get a clear 4xx naming the field at fault and leave everything as it was, except the
journal: a submission that reached /submit is always journaled (rejected, with its error).
Django's Client runs the whole middleware stack, as gunicorn does.
"""

from __future__ import annotations

import json

import pytest

from inventory.models import Device, DeviceHistory, DeviceMac, DeviceRequest, Submission
from tests.conftest import DOC_SUBMIT
from tests.factories import DeviceMacFactory

pytestmark = pytest.mark.django_db

CHECK = "/api/inventory/check-mac"
SUBMIT = "/api/inventory/submit"
STATUS = "/api/inventory/update-status"
P = "inventory_data"


def submit_body(**changes) -> bytes:
    data = dict(DOC_SUBMIT[P])
    data.update(changes)
    return json.dumps({P: data}).encode()


def state() -> dict:
    """Everything a submission may change, except the journal."""
    return {
        "devices": sorted(Device.objects.values_list("id", "name", "serial_number", "updated_at")),
        "macs": sorted(DeviceMac.objects.values_list("mac", "device_id", "interface")),
        "history": DeviceHistory.objects.count(),
        "requests": sorted(DeviceRequest.objects.values_list("id", "status")),
    }


@pytest.fixture
def other_device(demo):
    """A device that already owns 08:bf:b8:c0:c5:83 (one of the documentation's MACs)."""
    return DeviceMacFactory(mac="08:bf:b8:c0:c5:83").device


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


SUBMIT_CASES = [
    # (id, raw body, status, field, code)
    ("non-JSON", b"{not json", 400, "body", "invalid_json"),
    ("empty body", b"", 400, "body", "invalid_json"),
    ("not UTF-8", b'{"inventory_data": "\xff\xfe"}', 400, "body", "invalid_json"),
    ("JSON null", b"null", 400, P, "required"),
    ("JSON list", b"[1, 2]", 400, P, "required"),
    ("JSON string", b'"inventory"', 400, P, "required"),
    ("deeply nested JSON", deep(100_000), 400, "body", "too_deep"),
    (
        "deeply nested hardware",
        submit_body(hardware=json.loads(b'{"a": ' * 900 + b"1" + b"}" * 900)),
        400,
        f"{P}.hardware",
        "too_deep",
    ),
    ("missing inventory_data", b'{"something": 1}', 400, P, "required"),
    ("inventory_data is a list", b'{"inventory_data": []}', 400, P, "type"),
    ("missing mac_address", b'{"inventory_data": {}}', 400, f"{P}.mac_address", "required"),
    ("mac_address a string", submit_body(mac_address="eth0:00:e0:4c:92:f7:a4"), 400,
     f"{P}.mac_address", "type"),
    ("mac_address empty", submit_body(mac_address=[]), 400, f"{P}.mac_address", "required"),
    ("10,000 MACs", json.dumps({P: {"mac_address": [
        f"02:00:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}" for i in range(10_000)
    ]}}, separators=(",", ":")).encode(), 400, f"{P}.mac_address", "too_many"),
    ("duplicate MACs",
     submit_body(mac_address=["eth0:00:e0:4c:92:f7:a4", "eth1:00-E0-4C-92-F7-A4"]), 400,
     f"{P}.mac_address[1]", "duplicate_mac"),
    ("unknown field", submit_body(is_admin=True), 400, f"{P}.is_admin", "unknown_field"),
    ("has_modem a string", submit_body(has_modem="yes"), 400, f"{P}.has_modem", "type"),
    ("imei a number", submit_body(imei=123456789012345), 400, f"{P}.imei", "type"),
    ("imei too short", submit_body(imei="12345"), 400, f"{P}.imei", "invalid_imei"),
    ("imei in other digits", submit_body(imei="١٢٣٤٥٦٧٨٩٠١٢٣٤٥"), 400, f"{P}.imei", "invalid_imei"),
    ("serial a number", submit_body(serial_number=12345), 400, f"{P}.serial_number", "type"),
    ("name a list", submit_body(device_name=["x"]), 400, f"{P}.device_name", "type"),
    ("sn_source unknown", submit_body(sn_source="manual"), 400, f"{P}.sn_source",
     "invalid_choice"),
    ("sn_source a list", submit_body(sn_source=["bios"]), 400, f"{P}.sn_source", "invalid_choice"),
    ("hardware a string", submit_body(hardware="big"), 400, f"{P}.hardware", "type"),
    ("name too long", submit_body(device_name="x" * 201), 400, f"{P}.device_name", "too_long"),
    ("NUL in name", submit_body(device_name="PVE\u00001234"), 400, f"{P}.device_name",
     "control_characters"),
    ("escape sequence in serial", submit_body(serial_number="\x1b[31mABC"), 400,
     f"{P}.serial_number", "control_characters"),
    ("C1 control in serial", submit_body(serial_number="ABC\x9b31m"), 400, f"{P}.serial_number",
     "control_characters"),
    ("lone surrogate in name", b'{"inventory_data": {"mac_address": ["00:e0:4c:92:f7:a4"], '
     b'"device_name": "PVE-\\ud800"}}', 400, f"{P}.device_name", "invalid_unicode"),
    ("NUL in hardware", submit_body(hardware={"bios": "v\u00001"}), 400, f"{P}.hardware.bios",
     "control_characters"),
    ("lone surrogate in hardware", b'{"inventory_data": {"mac_address": ["00:e0:4c:92:f7:a4"], '
     b'"hardware": {"\\udfff": 1}}}', 400, f"{P}.hardware", "invalid_unicode"),
    ("control in interface name", submit_body(mac_address=["eth\u00010:00:e0:4c:92:f7:a4"]), 400,
     f"{P}.mac_address[0]", "invalid_interface"),
]  # fmt: skip

BAD_MACS = [
    "",
    " ",
    "00:e0:4c:92:f7",
    "00:e0:4c:92:f7:a4:11",
    "00:e0:4c:92:f7:a4:11:22",
    "zz:e0:4c:92:f7:a4",
    "00-e0-4c-92-f7-ag",
    "0x00e04c92f7a4",
    "\uff10\uff10:\uff45\uff10:\uff14\uff43:\uff19\uff12:\uff46\uff17:\uff41\uff14",  # fullwidth
    "eth0:",
    ":00:e0:4c:92:f7:a4",
    "eth 0:00:e0:4c:92:f7:a4",
    "eth0:00:e0:4c:92:f7:a4:ff",
    "00:e0:4c:92:f7:a4'; DROP TABLE inventory_device;--",
    "<script>alert(1)</script>",
    "1",
]


@pytest.mark.parametrize(
    ("raw", "status", "field", "code"),
    [case[1:] for case in SUBMIT_CASES],
    ids=[case[0] for case in SUBMIT_CASES],
)
def test_hostile_submission_is_journaled_rejected_and_changes_nothing(
    device_client, demo, raw, status, field, code
):
    before = state()
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert (body["field"], body["code"]) == (field, code), body
    assert field in body["detail"] or field == "body" or field == P
    assert state() == before
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert bytes(entry.body) == raw
    assert entry.error["field"] == field


@pytest.mark.parametrize("mac", BAD_MACS, ids=repr)
def test_submission_with_a_mac_in_a_wrong_shape_names_its_index(device_client, demo, mac):
    before = state()
    raw = submit_body(mac_address=["eth0:00:e0:4c:92:f7:a4", mac])
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 400
    assert response.json()["field"] == f"{P}.mac_address[1]"
    assert response.json()["code"] in {"invalid_mac", "invalid_interface"}
    assert state() == before
    assert Submission.objects.get().outcome == "rejected"


@pytest.mark.parametrize(
    "value",
    [5, None, True, 1.5, {"mac": "00:e0:4c:92:f7:a4"}, ["00:e0:4c:92:f7:a4"]],
    ids=repr,
)
def test_submission_with_a_mac_of_a_wrong_type_names_its_index(device_client, demo, value):
    raw = submit_body(mac_address=["eth0:00:e0:4c:92:f7:a4", value])
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 400
    assert response.json()["field"] == f"{P}.mac_address[1]"
    assert response.json()["code"] == "type"


def test_every_problem_of_a_submission_is_listed_with_its_field(device_client, demo):
    raw = submit_body(mac_address=["nope"], imei="1", has_modem="yes")
    errors = device_client.post(SUBMIT, raw=raw).json()["errors"]
    assert {e["field"] for e in errors} == {
        f"{P}.mac_address[0]",
        f"{P}.imei",
        f"{P}.has_modem",
    }


def test_submission_with_a_mac_of_another_device_is_a_conflict(device_client, other_device):
    second = DeviceMacFactory(mac="00:e0:4c:92:f7:a4").device
    before = state()
    response = device_client.post(SUBMIT, raw=submit_body())
    assert response.status_code == 409
    body = response.json()
    assert (body["field"], body["code"]) == (f"{P}.mac_address", "mac_conflict")
    assert set(body["device_ids"]) == {other_device.pk, second.pk}
    assert state() == before
    assert Submission.objects.get().outcome == "conflict"


def test_submission_with_a_mac_of_one_device_and_the_serial_of_another_is_a_conflict(
    device_client, other_device
):
    DeviceMacFactory(device__serial_number="ABC123XYZ", mac="02:00:00:00:00:01")
    before = state()
    response = device_client.post(SUBMIT, raw=submit_body())
    assert response.status_code == 409
    assert response.json()["field"] == f"{P}.serial_number"
    assert state() == before


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE inventory_device;--",
        "<script>alert('x')</script>",
        '"><img src=x onerror=alert(1)>',
        "名前-サーバー-01",
        "Ünïcödé Sérvér ☃",
        "🖥️ rack 7",
        "\u202egnp.exe",
    ],
    ids=["SQL", "HTML script", "HTML attribute", "CJK", "accents", "emoji", "bidi override"],
)
def test_sql_html_and_unicode_in_strings_are_stored_verbatim(device_client, demo, text):
    response = device_client.post(SUBMIT, raw=submit_body(device_name=text, serial_number=text))
    assert response.status_code == 200, response.content
    device = Device.objects.get()
    assert (device.name, device.serial_number) == (text, text)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    detail = device_client.post(CHECK, {"mac_address": "00:e0:4c:92:f7:a4"})
    assert detail.status_code == 200


# --- the body-size limit ------------------------------------------------------------------------


def test_huge_submission_is_refused_with_413_and_journaled_truncated(device_client, demo, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    raw = submit_body(hardware={"blob": "x" * (10 * 1024 * 1024)})
    before = state()
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 413
    body = response.json()
    assert (body["field"], body["code"]) == ("body", "body_too_large")
    assert str(len(raw)) in body["detail"]
    assert state() == before
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert entry.error["code"] == "body_too_large"
    assert entry.error["body_bytes"] == len(raw)
    assert bytes(entry.body) == raw[: entry.error["journaled_bytes"]]
    assert 0 < len(bytes(entry.body)) <= 64 * 1024


@pytest.mark.parametrize("path", [CHECK, STATUS])
def test_huge_body_on_other_service_endpoints_is_refused_with_413(device_client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    raw = json.dumps({"mac_address": "x" * (10 * 1024 * 1024)})
    response = device_client.post(path, raw=raw)
    assert response.status_code == 413
    assert (response.json()["field"], response.json()["code"]) == ("body", "body_too_large")


# --- check-mac and update-status ----------------------------------------------------------------

TYPED_CASES = [
    (CHECK, b"{not json", "body"),
    (CHECK, b"", "body"),
    (CHECK, b"\xff\xfe", "body"),
    (CHECK, b"null", "mac_address"),
    (CHECK, b"[]", "mac_address"),
    (CHECK, deep(100_000), "body"),
    (CHECK, b'{"mac_address": ' + deep(5000) + b"}", "body"),
    (CHECK, b"{}", "mac_address"),
    (CHECK, b'{"mac_address": null}', "mac_address"),
    (CHECK, b'{"mac_address": 5}', "mac_address"),
    (CHECK, b'{"mac_address": ["00:e0:4c:92:f7:a4"]}', "mac_address"),
    (CHECK, b'{"mac_address": "00:e0:4c:92:f7"}', "mac_address"),
    (CHECK, b'{"mac_address": "\\u0000"}', "mac_address"),
    (CHECK, b'{"mac_address": "\\ud800"}', "mac_address"),
    (CHECK, b'{"mac_address": "\xef\xbc\x90\xef\xbc\x90:e0:4c:92:f7:a4"}', "mac_address"),
    (CHECK, b'{"mac_address": "00:e0:4c:92:f7:a4", "is_admin": true}', "is_admin"),
    (CHECK, b'{"mac_address": "00:e0:4c:92:f7:a4", "x\\ud800": 1}', "x\ud800"),
    (STATUS, b"{not json", "body"),
    (STATUS, deep(100_000), "body"),
    (STATUS, b"{}", "device_ids"),
    (STATUS, b'{"device_ids": "dev-1", "new_status": "processed"}', "device_ids"),
    (STATUS, b'{"device_ids": ["dev-1", {}], "new_status": "processed"}', "device_ids[1]"),
    (STATUS, b'{"device_ids": ["dev-1"], "new_status": 5}', "new_status"),
    (STATUS, b'{"device_ids": [], "new_status": "processed"}', "device_ids"),
    (STATUS, b'{"device_ids": ["dev-1"], "new_status": "processed", "force": true}', "force"),
    (STATUS, b'{"device_ids": ["\\u0000"], "new_status": "processed"}', "device_ids[0]"),
    (STATUS, b'{"device_ids": ["\\ud800"], "new_status": "processed"}', "device_ids[0]"),
]


@pytest.mark.parametrize(
    ("path", "raw", "field"), TYPED_CASES, ids=[f"{p[14:]} {r[:40]!r}" for p, r, _ in TYPED_CASES]
)
def test_hostile_input_on_check_mac_and_update_status_names_the_field(
    device_client, demo, path, raw, field
):
    before = state()
    response = device_client.post(path, raw=raw)
    assert 400 <= response.status_code < 500, response.content[:300]
    body = response.json()
    assert body["field"] == field, body
    assert body["detail"]
    assert state() == before
    assert Submission.objects.count() == 0


def test_field_names_with_nul_or_surrogates_are_journaled_escaped(device_client, demo):
    raw = b'{"inventory_data": {"mac_address": ["00:e0:4c:92:f7:a4"], "x\\u0000\\ud800": 1}}'
    response = device_client.post(SUBMIT, raw=raw, headers={"X-Agent": "a\u00e9"})
    assert response.status_code == 400
    assert response.json()["field"] == f"{P}.x\x00\ud800"
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert entry.error["field"] == f"{P}.x\\x00\\ud800"
    assert bytes(entry.body) == raw


# --- the admin API: text an operator's script sends ----------------------------------------------

ADMIN_CASES = [
    ("/api/organizations", {"name": "Org\u0000"}, "name"),
    ("/api/organizations", {"name": "Org \ud800"}, "name"),
    ("/api/organizations", {"name": "Org", "imaging_url": "http://x/\u0000"}, "imaging_url"),
    ("/api/specs", {"name": "Spec\u0000"}, "name"),
    ("/api/specs", {"name": "Spec", "name_patterns": ["*NUC\u0000*"]}, "name_patterns[0]"),
    ("/api/specs", {"name": "Spec", "capabilities": {"cpu": "i5\u0000"}}, "capabilities.cpu"),
    ("/api/requests", {"organization": "Demo Org", "target_macs": ["02:00:00:00:00:09"],
                       "note": "line 1\nline 2\u0000"}, "note"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "field"), ADMIN_CASES, ids=[f"{p} {f}" for p, _, f in ADMIN_CASES]
)
def test_admin_text_postgresql_cannot_store_is_refused_naming_the_field(
    admin_client, demo, path, body, field
):
    response = admin_client.post(path, body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["field"] == field


def test_a_value_no_check_caught_is_a_400_not_a_500(admin_client, demo):
    # An organization looked up by a name holding NUL: PostgreSQL cannot even compare it.
    body = {"organization": "Demo\u0000", "target_macs": ["02:00:00:00:00:09"]}
    response = admin_client.post("/api/requests", body)
    assert response.status_code in (400, 404)
    assert response.status_code != 500


def test_device_edit_refuses_control_characters_in_name_and_serial(admin_client, demo):
    from tests.factories import DeviceFactory

    device = DeviceFactory()
    for field in ("name", "serial_number"):
        response = admin_client.patch(f"/api/devices/{device.pk}", {field: "x\u0000y"})
        assert response.status_code == 400
        assert response.json()["field"] == field


# --- numbers JSON does not allow, and parameters past any bound ----------------------------------

NON_FINITE = [
    (b"NaN", f"{P}.hardware.cpu.mhz"),
    (b"Infinity", f"{P}.hardware.cpu.mhz"),
    (b"-Infinity", f"{P}.hardware.cpu.mhz"),
    (b"1e999", f"{P}.hardware.cpu.mhz"),
]


@pytest.mark.parametrize(("number", "field"), NON_FINITE, ids=[n.decode() for n, _ in NON_FINITE])
def test_non_finite_numbers_in_hardware_are_a_400_naming_the_path(
    device_client, demo, number, field
):
    raw = (
        b'{"inventory_data": {"mac_address": ["eth0:00:e0:4c:92:f7:a4"], '
        b'"hardware": {"cpu": {"mhz": ' + number + b"}}}}"
    )
    before = state()
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert (body["field"], body["code"]) == (field, "non_finite")
    assert state() == before
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert entry.error["field"] == field


def test_non_finite_numbers_in_a_list_name_the_index(device_client, demo):
    raw = (
        b'{"inventory_data": {"mac_address": ["eth0:00:e0:4c:92:f7:a4"], '
        b'"hardware": {"disks": [{"gb": 1}, {"gb": NaN}]}}}'
    )
    response = device_client.post(SUBMIT, raw=raw)
    assert response.status_code == 400
    assert response.json()["field"] == f"{P}.hardware.disks[1].gb"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_in_spec_capabilities_are_a_400_on_the_api(admin_client, number):
    from inventory.models import DeviceSpec

    raw = '{"name": "Spec X", "capabilities": {"ram_gb": ' + number + "}}"
    response = admin_client.client.post(
        "/api/specs", raw, content_type="application/json", headers=admin_client.headers
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["field"] == "capabilities.ram_gb"
    assert DeviceSpec.objects.count() == 0
    # ...and nothing left behind that a second try would take for a duplicate (the false 409).
    again = admin_client.client.post(
        "/api/specs", raw, content_type="application/json", headers=admin_client.headers
    )
    assert again.status_code == 400


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_in_spec_capabilities_are_a_form_error_in_the_portal(staff_user, number):
    from django.test import Client

    from inventory.models import DeviceSpec

    client = Client()
    client.force_login(staff_user)
    form = {"name": "Spec X", "capabilities": '{"ram_gb": ' + number + "}"}
    response = client.post("/specs/new/", form)
    assert response.status_code == 400
    assert "finite number" in response.content.decode()
    assert DeviceSpec.objects.count() == 0


@pytest.mark.parametrize(
    "query",
    [
        {"page": "99999999999999999999"},
        {"page": "1000001"},
        {"page_size": "100000"},
        {"q": "x" * 5000},
    ],
    ids=["page past bigint", "page past the bound", "page size", "a 5000-character search"],
)
def test_list_parameters_past_their_bounds_are_a_400_naming_them(admin_client, demo, query):
    response = admin_client.get("/api/devices", query)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["field"] == next(iter(query))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/devices/dev-\x00", 404),
        ("/api/requests/99999999999999999999", 400),
        ("/api/devices?q=%00", 400),
        ("/api/devices?mac=%00", 400),
        ("/api/boot-events?mac=%00", 400),
    ],
)
def test_admin_api_ids_and_filters_with_nul_or_past_bigint(admin_client, demo, path, status):
    response = admin_client.get(path)
    assert response.status_code == status, response.content[:300]
    assert response.json()["field"]


@pytest.mark.parametrize("organization", ["\ud800", "Demo\u0000Org", "x" * 300, "\u00b2", "9" * 25])
def test_device_edit_with_an_organization_that_cannot_exist(admin_client, demo, organization):
    from tests.factories import DeviceFactory

    device = DeviceFactory()
    raw = json.dumps({"organization": organization})  # a lone surrogate stays a \ud800 escape
    response = admin_client.client.patch(
        f"/api/devices/{device.pk}", raw, content_type="application/json",
        headers=admin_client.headers,
    )  # fmt: skip
    assert response.status_code in (400, 404), response.content[:300]
    assert response.json()["field"] == "organization"
    assert Device.objects.get(pk=device.pk).organization is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/devices/%00/", 404),
        ("/devices/dev-%00/edit/", 404),
        ("/audit/?type=%00", 400),
        ("/devices/?q=%00", 400),
        ("/boots/?mac=%00", 400),
        ("/requests/99999999999999999999/", 404),
        ("/submissions/99999999999999999999/", 404),
    ],
)
def test_portal_paths_and_queries_with_nul_or_past_bigint(staff_user, path, status):
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    response = client.get(path)
    assert response.status_code == status


def test_the_boot_endpoint_answers_a_retry_script_while_the_database_is_down(client, demo):
    """The database refusing every statement (as when its server is gone): iPXE still gets a
    script, which waits and asks again."""
    from django.db import OperationalError, connection

    def down(execute, sql, params, many, context):
        raise OperationalError("connection to server failed: Connection refused")

    with connection.execute_wrapper(down):
        response = client.get("/pxe/boot.ipxe", {"mac": "00:e0:4c:92:f7:a4"})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("#!ipxe\n")
    assert "\nsleep " in text
    assert "chain --replace http://testserver/pxe/boot.ipxe?mac=${netX/mac}" in text
