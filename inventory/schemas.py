"""Wire format of the API only; services never import this module."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr


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


class CheckMacIn(Schema):
    mac_address: str


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


class UpdateStatusIn(Schema):
    device_ids: list[str]
    new_status: str


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
