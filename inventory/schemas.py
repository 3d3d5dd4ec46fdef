"""Wire format of the API. The service bodies (check-mac, submit, update-status) are strict
schemas: each is the one definition of its body, validating it and generating its OpenAPI
document. Services import those (submit is validated after it is journaled, so by the service,
not by ninja: docs/decisions.md); the answers' schemas are the handlers' business only."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

from ninja import Schema
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from arrow_agent.collectors.modem import luhn_ok
from inventory.choices import ADMIN_STATUSES, REPORTED_SN_SOURCES
from inventory.errors import InventoryError, ValidationFailed, validation_failed
from inventory.services.macs import ReportedMac, normalize_mac, parse_reported_mac
from inventory.services.merge import InventoryData
from inventory.services.text import free_form_problem, storable_problem, text_problem

MAX_MACS = 64  # a server with many ports reports a few dozen; more is not a device
MAX_TEXT = 200

# --- the rules a body's fields share ------------------------------------------------------------


def _refuse(code: str, message: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A rule's refusal as pydantic carries it; *at* names the item at fault below the field
    (inventory/errors.py adds it to the field's path). The message goes through the context so
    that braces in a quoted value are not read as a template."""
    return PydanticCustomError(code, "{message}", {"message": message, "at": at})


def _reported_mac(value: str) -> ReportedMac:
    try:
        return parse_reported_mac(value, field="mac_address")
    except InventoryError as exc:
        raise _refuse(exc.code, exc.message) from None


def _canonical_mac(value: str) -> str:
    try:
        return normalize_mac(value)
    except InventoryError as exc:
        raise _refuse(exc.code, exc.message) from None


def _shown_text(value: str) -> str | None:
    """Text a page shows: no control characters, no lone surrogates; blank is None."""
    if problem := text_problem(value):
        raise _refuse(*problem)
    return value.strip() or None


def _key_text(value: str) -> str:
    if problem := text_problem(value):
        raise _refuse(*problem)
    return value


def _free_form(value: Any) -> Any:
    # Before the type check: a key with a lone surrogate is named as the free-form rule names it.
    if isinstance(value, dict) and (problem := free_form_problem(value)):
        at, code, message = problem
        raise _refuse(code, message, at)
    return value


def _imei(value: str) -> str:
    digits = value.strip()
    if not (len(digits) == 15 and digits.isascii() and digits.isdigit()):
        raise _refuse("invalid_imei", f"{value[:40]!r} is not 15 digits")
    return digits


def one_of(values: tuple[str, ...], *, code: str = "invalid_choice") -> Any:
    """A string among *values* (an enum in the OpenAPI document); *code* names the refusal."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> str:
        try:
            return handler(value)
        except ValidationError:
            shown = f"{value!r:.60}" if isinstance(value, str) else repr(value)[:60]
            raise _refuse(code, f"{shown} is not one of {', '.join(values)}") from None

    return Annotated[Literal[values], WrapValidator(check)]


ReportedSnSource = one_of(tuple(s.value for s in REPORTED_SN_SOURCES))
AdminStatus = one_of(tuple(s.value for s in ADMIN_STATUSES), code="invalid_status")
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_shown_text)]
ReportedMacText = Annotated[
    str,
    AfterValidator(_reported_mac),
    Field(description='"interface:MAC" (eth0:00:e0:4c:92:f7:a4) or a bare MAC, in any spelling'),
]
Imei = Annotated[
    str,
    AfterValidator(_imei),
    Field(description="15 digits", json_schema_extra={"pattern": "^[0-9]{15}$"}),
]


class Body(BaseModel):
    """An object of a body: every field declared, no other, no type coerced (``"yes"`` is no
    bool)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _keys_are_text(cls, data: Any) -> Any:
        # A key pydantic cannot read as text (a lone surrogate) is named as any unknown field.
        for key in data if isinstance(data, dict) else ():
            if isinstance(key, str) and key not in cls.model_fields and storable_problem(key):
                raise _refuse("unknown_field", "unknown field", (key,))
        return data


class RequestBody(Body):
    """A whole request body: one that is not an object lacks its first field."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            first = next(name for name, f in cls.model_fields.items() if f.is_required())
            raise _refuse("required", f"the body must be an object with {first!r}", (first,))
        return data


M = TypeVar("M", bound=BaseModel)


def parse_body(raw: bytes, model: type[M]) -> M:
    """*raw* as *model*, or ValidationFailed naming each field at fault (``body`` when it is no
    JSON). Python's JSON reader, not pydantic's: it reads NaN, Infinity and 1e999, which the
    free-form rule then refuses naming their field, and nests as deep as the depth rule needs."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise ValidationFailed(
            [{"field": "body", "code": "too_deep", "message": "JSON is nested too deeply"}]
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(
            [{"field": "body", "code": "invalid_json", "message": f"not valid JSON: {exc}"}]
        ) from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise validation_failed(exc.errors()) from None


# --- the service bodies -------------------------------------------------------------------------


class CheckMacIn(RequestBody):
    mac_address: Annotated[
        str, AfterValidator(_canonical_mac), Field(description="a MAC in any spelling")
    ]


class InventoryDataIn(Body):
    mac_address: Annotated[list[ReportedMacText], Field(min_length=1, max_length=MAX_MACS)]
    device_name: Text | None = None
    serial_number: Text | None = None
    device_spec: Text | None = None
    has_modem: bool | None = None
    hardware_generated_sn: bool | None = None
    imei: Imei | None = None
    sn_source: ReportedSnSource | None = None
    hardware: Annotated[dict[str, Any], BeforeValidator(_free_form)] | None = None

    @field_validator("mac_address", mode="after")
    @classmethod
    def _once_each(cls, macs: list[ReportedMac]) -> list[ReportedMac]:
        seen: dict[str, int] = {}
        for i, reported in enumerate(macs):
            if reported.mac in seen:
                message = f"{reported.mac} repeats mac_address[{seen[reported.mac]}]"
                raise _refuse("duplicate_mac", message, (i,))
            seen[reported.mac] = i
        return macs

    def to_data(self) -> InventoryData:
        """The facts the merge takes; an IMEI that fails its check digit is kept, with a warning."""
        doubtful = self.imei is not None and not luhn_ok(self.imei)
        return InventoryData(
            macs=list(self.mac_address),
            device_name=self.device_name,
            serial_number=self.serial_number,
            device_spec=self.device_spec,
            has_modem=bool(self.has_modem),
            imei=self.imei,
            hardware_generated_sn=self.hardware_generated_sn,
            sn_source=self.sn_source,
            hardware=self.hardware or {},
            warnings=[f"IMEI {self.imei} fails the Luhn check digit"] if doubtful else [],
        )


# The documentation's example submission (the spec's, byte for byte), accepted verbatim. This
# file is its one home: the OpenAPI document shows it, and the tests submit it.
SUBMIT_EXAMPLE_FILE = resources.files("inventory") / "examples" / "submit-example.json"
SUBMIT_EXAMPLE = json.loads(SUBMIT_EXAMPLE_FILE.read_text(encoding="utf-8"))


class SubmitIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [SUBMIT_EXAMPLE]})

    inventory_data: InventoryDataIn


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The ``requestBody`` of an operation that reads its body itself, generated from *model*
    (ninja documents typed bodies only). Nested models are written in place: the document's
    components are ninja's to fill."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    return {"requestBody": {"required": True, "content": content}}


class UpdateStatusIn(RequestBody):
    device_ids: Annotated[list[Annotated[str, AfterValidator(_key_text)]], Field(min_length=1)]
    new_status: AdminStatus


# --- the service answers ------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    field: str | None = None
    detail: str
    errors: list[dict[str, Any]] | None = None
    device_ids: list[str] | None = None
    device_id: str | None = None
    missing: list[str] | None = None
    request_id: int | None = None
    mac: str | None = None


class CheckMacOut(Schema):
    needs_inventory: bool
    device_id: str | None
    organization: str | None


class SubmitOut(Schema):
    device_id: str
    status: str
    device_spec: str | None
    organization: str | None
    imaging_status: str
    submission_id: int
    warnings: list[str] = []
    spec_mismatches: list[str] = []


class UpdateStatusOut(Schema):
    updated: list[str]
    new_status: str


# --- admin API --------------------------------------------------------------------------------


class OrganizationIn(Schema):
    name: str
    slug: str | None = None
    imaging_url: str = ""


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    imaging_url: str


class SpecRequirements(Schema):
    """What a spec's devices must have; a requirement left out (or null) is not checked.
    Strict types and no unknown keys: a typo must not pass as a requirement never checked."""

    model_config = ConfigDict(extra="forbid")

    cpu_pattern: StrictStr | None = None
    min_cores: StrictInt | None = None
    min_memory_gib: StrictInt | None = None
    min_disks: StrictInt | None = None
    min_disk_gb: StrictInt | None = None
    min_nics: StrictInt | None = None
    modem: StrictBool | None = None


class SpecIn(Schema):
    name: str
    name_patterns: list[str] = []
    capabilities: dict[str, Any] = {}
    imaging_url: str = ""
    requirements: SpecRequirements | None = None
    image_anyway: StrictBool = False


class SpecOut(Schema):
    id: int
    name: str
    name_patterns: list[str]
    capabilities: dict[str, Any]
    imaging_url: str
    requirements: dict[str, Any]
    image_anyway: bool


class RequestIn(Schema):
    organization: str
    target_macs: list[str]
    spec: str | None = None
    status: str | None = None
    note: str = ""


class RequestOut(Schema):
    id: int
    organization: str
    spec: str | None
    status: str
    target_macs: list[str]
    note: str
    created_at: datetime


class MacOut(Schema):
    mac: str
    interface: str
    shared: bool


class DeviceOut(Schema):
    id: str
    name: str
    serial_number: str | None
    hardware_generated_sn: bool
    sn_source: str | None
    spec: str | None
    reported_spec: str
    organization: str | None
    has_modem: bool
    imei: str | None
    inventory_status: str
    imaging_status: str
    flagged_for_inventory: bool
    fails_spec: bool
    spec_mismatches: list[dict[str, str]]
    macs: list[MacOut]
    warnings: list[str]
    created_at: datetime
    updated_at: datetime


class HistoryOut(Schema):
    created_at: datetime
    kind: str
    changes: dict[str, Any]
    note: str
    submission_id: int | None
    actor: str | None


class SubmissionOut(Schema):
    id: int
    received_at: datetime
    outcome: str
    error: dict[str, Any] | None
    device_id: str | None
    conflict_device_ids: list[str]
    body: str
    remote_addr: str | None


class DeviceDetailOut(DeviceOut):
    hardware: dict[str, Any]
    history: list[HistoryOut]
    submissions: list[SubmissionOut]


class DeviceEditIn(Schema):
    name: str | None = None
    serial_number: str | None = None
    spec: str | None = None
    organization: str | None = None


class QuickAddIn(Schema):
    mac_address: str
    organization: str


class QuickAddBulkIn(Schema):
    organization: str
    macs: list[str] | None = None
    csv: str | None = None


class BulkLineOut(Schema):
    line: int
    text: str
    outcome: str
    mac: str | None
    device_id: str | None
    message: str


class ImagingStatusIn(Schema):
    status: str
    device_id: str | None = None
    mac_address: str | None = None
    reason: str = ""


class ImagingStatusOut(Schema):
    device_id: str
    imaging_status: str
    request_status: str | None


class StartedOut(Schema):
    mac: str
    step: str


class BootEventOut(Schema):
    at: datetime
    mac: str
    step: str
    action: str
    reason: str
    detail: dict[str, Any]
    device_id: str | None
    remote_addr: str | None


class SightingOut(Schema):
    macs: list[str]
    device_id: str | None
    first_seen: datetime
    last_seen: datetime
    merge_submission_id: int | None


class SerialOut(Schema):
    id: int
    serial: str
    state: str
    machines: int
    devices: int
    detected_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str
    sightings: list[SightingOut]
    open_conflicts: list[int]


class SerialDecideIn(Schema):
    decision: str = Field(max_length=20, description="confirm or clear")
    note: str = Field("", max_length=500)


class WebhookIn(Schema):
    url: str
    event_types: list[str]
    organization: str | None = None  # name or slug; none: every organization (staff only)
    secret: str | None = None  # none: one is generated; either way it is shown only once
    description: str = ""
    active: bool = True


class WebhookEditIn(Schema):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    url: str
    event_types: list[str]
    organization: str | None
    description: str
    active: bool
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str  # the only time it is shown


class WebhookAttemptOut(Schema):
    number: int
    at: datetime
    outcome: str
    status_code: int | None
    error: str
    duration_ms: int


class WebhookDeliveryOut(Schema):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    finished_at: datetime | None
    log: list[WebhookAttemptOut]
