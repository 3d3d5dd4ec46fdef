"""Validation of an inventory submission's body: types, MACs, IMEI, serial source.

Collects every problem with the field it concerns (``inventory_data.mac_address[1]``) instead of
stopping at the first, so that an operator reading the journal sees the whole story at once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inventory.choices import REPORTED_SN_SOURCES
from inventory.errors import InvalidMac, NotFound, ValidationFailed
from inventory.services.macs import normalize_mac

MAX_MACS = 64  # a server with many ports reports a few dozen; more is not a device
MAX_TEXT = 200
MAX_INTERFACE = 64
MAX_HARDWARE_DEPTH = 16  # dmidecode/lshw facts nest a few levels; deeper is not hardware
# Text made only of hex digits and MAC separators: a MAC attempt, never "interface:MAC".
_MAC_LIKE = re.compile(r"^[0-9A-Fa-f]{1,4}([:.-][0-9A-Fa-f]{1,4})+$")
ALLOWED_FIELDS = frozenset(
    {
        "mac_address",
        "device_name",
        "serial_number",
        "device_spec",
        "has_modem",
        "imei",
        "hardware_generated_sn",
        "sn_source",
        "hardware",
    }
)
P = "inventory_data"


@dataclass(frozen=True)
class ReportedMac:
    mac: str
    interface: str


@dataclass
class InventoryData:
    macs: list[ReportedMac]
    device_name: str | None = None
    serial_number: str | None = None
    device_spec: str | None = None
    has_modem: bool = False
    imei: str | None = None
    hardware_generated_sn: bool | None = None
    sn_source: str | None = None
    hardware: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


# Unicode category Cc, all of it: C0 (NUL, ESC...), DEL and C1 (CSI, NEL...). A regex, not a
# loop over characters: every string of every submission goes through these.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# JSON may escape a lone surrogate ("\\ud800"): no UTF-8 encodes it, PostgreSQL cannot store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def text_problem(text: str) -> tuple[str, str] | None:
    """(code, message) when *text* cannot be stored and shown as it is, else None."""
    if _has_surrogate(text):
        return "invalid_unicode", "contains a lone UTF-16 surrogate, which is not a character"
    if _has_control(text):
        return "control_characters", "contains control characters"
    return None


MAX_KEY = 64  # device ids are 14 characters; anything longer names no object


def lookup_key(value: object, *, field: str) -> str:
    """*value* as text to look an object up by (an id, a name), or NotFound naming *field*:
    too long, NUL or a lone surrogate (which the database cannot even compare) find nothing."""
    text = str(value) if value is not None else ""
    if len(text) > MAX_KEY or storable_problem(text):
        raise NotFound("unknown_object", f"nothing is named {text[:40]!r}", field=field)
    return text


def storable_problem(text: str) -> tuple[str, str] | None:
    """(code, message) when PostgreSQL cannot store *text* at all (multi-line text is fine)."""
    if _has_surrogate(text):
        return "invalid_unicode", "contains a lone UTF-16 surrogate, which is not a character"
    if "\x00" in text:
        return "control_characters", "contains a NUL character"
    return None


def _path(parent: str, key: object) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}"


def free_form_problem(value: Any, field: str) -> dict[str, str] | None:
    """The first problem of free-form facts (hardware, capabilities) that cannot be stored as
    they are, as {field, code, message} with the path of the value at fault
    (``inventory_data.hardware.memory[0].size``), else None."""
    stack: list[tuple[Any, int, str]] = [(value, 1, field)]
    while stack:
        item, depth, path = stack.pop()
        if depth > MAX_HARDWARE_DEPTH:
            return _problem(field, "too_deep", f"nested deeper than {MAX_HARDWARE_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth, path) for k in item if isinstance(k, str))
            stack.extend((v, depth + 1, _path(path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, depth + 1, _path(path, i)) for i, v in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            return _problem(
                path, "non_finite", "is not a finite number (JSON has no NaN or Infinity)"
            )
        elif isinstance(item, str) and (problem := storable_problem(item)):
            return _problem(path, *problem)
    return None


def _problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def parse_reported_mac(text: str, *, field: str) -> ReportedMac:
    """``"eth0:00:e0:4c:92:f7:a4"`` or a bare MAC in any accepted form."""
    try:
        return ReportedMac(mac=normalize_mac(text, field=field), interface="")
    except InvalidMac:
        pass
    if _MAC_LIKE.match(text.strip()):
        # "00:e0:4c:92:f7:a4:11" must not become interface "00" with MAC e0:4c:92:f7:a4:11.
        raise InvalidMac("invalid_mac", f"{text!r} is not a MAC address", field=field)
    iface, sep, rest = text.partition(":")
    if not sep or not iface.strip():
        raise InvalidMac(
            "invalid_mac", f"{text!r} is not 'interface:MAC' nor a MAC address", field=field
        )
    iface = iface.strip()
    if len(iface) > MAX_INTERFACE or text_problem(iface) or " " in iface:
        raise InvalidMac("invalid_interface", f"interface name {iface!r} is not valid", field=field)
    return ReportedMac(mac=normalize_mac(rest, field=field), interface=iface)


def decode_body(raw: bytes) -> Any:
    """The JSON document in *raw*, or ValidationFailed naming the body."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValidationFailed(
            [{"field": "body", "code": "too_deep", "message": "JSON is nested too deeply"}]
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(
            [{"field": "body", "code": "invalid_json", "message": f"not valid JSON: {exc}"}]
        ) from None


Bad = Callable[[str, str, str], None]


def _envelope(document: Any, errors: list[dict[str, str]]) -> dict[str, Any]:
    """The ``inventory_data`` object; unknown fields are listed, a missing object ends it."""
    if not isinstance(document, dict) or "inventory_data" not in document:
        errors.append(
            _problem(P, "required", "the body must be an object with an 'inventory_data' object")
        )
        raise ValidationFailed(errors)
    extra_top = sorted(set(document) - {"inventory_data"})
    if extra_top:
        errors.append(
            _problem(extra_top[0], "unknown_field", f"unknown field(s): {', '.join(extra_top)}")
        )
    data = document["inventory_data"]
    if not isinstance(data, dict):
        errors.append(_problem(P, "type", "must be an object"))
        raise ValidationFailed(errors)
    unknown = sorted(set(data) - ALLOWED_FIELDS)
    if unknown:
        errors.append(
            _problem(
                f"{P}.{unknown[0]}", "unknown_field", f"unknown field(s): {', '.join(unknown)}"
            )
        )
    return data


def _macs(macs: Any, result: InventoryData, bad: Bad) -> None:
    name = f"{P}.mac_address"
    if macs is None or (isinstance(macs, list) and not macs):
        bad(name, "required", "at least one MAC address is required")
    elif not isinstance(macs, list):
        bad(name, "type", "must be a list of 'interface:MAC' strings")
    elif len(macs) > MAX_MACS:
        bad(name, "too_many", f"{len(macs)} MACs; at most {MAX_MACS} are accepted")
    else:
        _mac_items(macs, result, bad)


def _mac_items(macs: list[Any], result: InventoryData, bad: Bad) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(macs):
        name = f"{P}.mac_address[{i}]"
        if not isinstance(item, str):
            bad(name, "type", f"must be a string, got {type(item).__name__}")
            continue
        try:
            reported = parse_reported_mac(item, field=name)
        except InvalidMac as exc:
            bad(name, exc.code, exc.message)
            continue
        if reported.mac in seen:
            bad(name, "duplicate_mac", f"{reported.mac} repeats mac_address[{seen[reported.mac]}]")
            continue
        seen[reported.mac] = i
        result.macs.append(reported)


def _texts(data: dict[str, Any], result: InventoryData, bad: Bad) -> None:
    for key in ("device_name", "serial_number", "device_spec"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            bad(f"{P}.{key}", "type", f"must be a string or null, got {type(value).__name__}")
        elif len(value) > MAX_TEXT:
            bad(f"{P}.{key}", "too_long", f"longer than {MAX_TEXT} characters")
        elif problem := text_problem(value):
            bad(f"{P}.{key}", *problem)
        else:
            setattr(result, key, value.strip() or None)


def _flags(data: dict[str, Any], result: InventoryData, bad: Bad) -> None:
    for key in ("has_modem", "hardware_generated_sn"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            bad(f"{P}.{key}", "type", f"must be true or false, got {value!r}"[:200])
        else:
            setattr(result, key, value)


def _imei(imei: Any, result: InventoryData, bad: Bad) -> None:
    if imei is None:
        return
    if not isinstance(imei, str):
        bad(f"{P}.imei", "type", f"must be a string of 15 digits, got {type(imei).__name__}")
    elif not (len(imei.strip()) == 15 and imei.strip().isascii() and imei.strip().isdigit()):
        bad(f"{P}.imei", "invalid_imei", f"{imei[:40]!r} is not 15 digits")
    else:
        result.imei = imei.strip()
        if not luhn_ok(result.imei):
            result.warnings.append(f"IMEI {result.imei} fails the Luhn check digit")


def _sn_source(sn_source: Any, result: InventoryData, bad: Bad) -> None:
    if sn_source is None:
        return
    if sn_source not in [s.value for s in REPORTED_SN_SOURCES]:
        allowed = ", ".join(s.value for s in REPORTED_SN_SOURCES)
        bad(f"{P}.sn_source", "invalid_choice", f"{sn_source!r:.60} is not one of {allowed}")
    else:
        result.sn_source = sn_source


def _hardware(hardware: Any, result: InventoryData, errors: list[dict[str, str]]) -> None:
    if hardware is None:
        return
    if not isinstance(hardware, dict):
        errors.append(_problem(f"{P}.hardware", "type", "must be an object"))
    elif problem := free_form_problem(hardware, f"{P}.hardware"):
        errors.append(problem)
    else:
        result.hardware = hardware


def validate_submission(document: Any) -> InventoryData:
    """Checks a decoded submission body; raises ValidationFailed listing every bad field."""
    errors: list[dict[str, str]] = []

    def bad(name: str, code: str, message: str) -> None:
        errors.append(_problem(name, code, message))

    data = _envelope(document, errors)
    result = InventoryData(macs=[])
    _macs(data.get("mac_address"), result, bad)
    _texts(data, result, bad)
    _flags(data, result, bad)
    _imei(data.get("imei"), result, bad)
    _sn_source(data.get("sn_source"), result, bad)
    _hardware(data.get("hardware"), result, errors)
    if errors:
        raise ValidationFailed(errors)
    return result
