"""Which colour each status value wears in the portal: one table, used by tables and templates."""

from __future__ import annotations

from django.utils.html import format_html

from inventory.choices import (
    ImagingStatus,
    InventoryStatus,
    RequestStatus,
    SerialState,
    SubmissionOutcome,
)

# Bootstrap's subtle colours: calm on a large screen, still distinct on a laptop.
TONES: dict[str, str] = {
    InventoryStatus.MANUALLY_ADDED: "info",
    InventoryStatus.NEWLY_INVENTORIED: "primary",
    InventoryStatus.UPDATED_VIA_INVENTORY: "primary",
    InventoryStatus.PROCESSED: "secondary",
    InventoryStatus.ASSIGNED: "warning",
    InventoryStatus.REVIEWED: "success",
    ImagingStatus.AWAITING_INVENTORY: "secondary",
    ImagingStatus.READY_FOR_IMAGING: "info",
    ImagingStatus.IMAGING: "primary",
    ImagingStatus.IMAGED: "success",
    ImagingStatus.FAILED: "danger",
    RequestStatus.PENDING: "warning",
    RequestStatus.INVENTORIED: "info",
    RequestStatus.FULFILLED: "success",
    RequestStatus.CANCELLED: "secondary",
    SubmissionOutcome.RECEIVED: "secondary",
    SubmissionOutcome.ACCEPTED: "success",
    SubmissionOutcome.REJECTED: "danger",
    SubmissionOutcome.CONFLICT: "warning",
    SubmissionOutcome.RESOLVED: "info",
    SerialState.SUSPECT: "warning",
    SerialState.CONFIRMED: "secondary",
    SerialState.CLEARED: "success",
}
LABELS: dict[str, str] = {
    **dict(InventoryStatus.choices),
    **dict(ImagingStatus.choices),
    **dict(RequestStatus.choices),
    **dict(SubmissionOutcome.choices),
    **dict(SerialState.choices),
}


def badge(value: object) -> str:
    """A coloured badge for a status value; unknown values get a neutral one."""
    text = str(value or "")
    tone = TONES.get(text, "secondary")
    return format_html(
        '<span class="badge status-badge bg-{0}-subtle text-{0}-emphasis border '
        'border-{0}-subtle" data-status="{1}">{2}</span>',
        tone,
        text,
        LABELS.get(text, text or "—"),
    )
