"""Reads shared by the admin API and the portal, so that both show the same thing."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from inventory import authz
from inventory.authz import CHANGE, MANAGE, VIEW, Action, restrict
from inventory.choices import (
    HistoryKind,
    ImagingStatus,
    InventoryStatus,
    SerialState,
    SubmissionOutcome,
)
from inventory.errors import NotFound
from inventory.models import (
    AuditEntry,
    BootEvent,
    Device,
    DeviceHistory,
    DeviceMac,
    DeviceRequest,
    DeviceSpec,
    Organization,
    RequestMac,
    SerialSighting,
    Submission,
    SuspectSerial,
    WebhookDelivery,
    WebhookSubscription,
)
from inventory.services.macs import InvalidMac, normalize_mac
from inventory.services.serials import count_machines
from inventory.services.text import lookup_key


def device_queryset(user=None, action: Action = VIEW) -> QuerySet[Device]:
    return restrict(Device.objects.all(), user, action)


def request_queryset(user=None, action: Action = VIEW) -> QuerySet[DeviceRequest]:
    return restrict(DeviceRequest.objects.all(), user, action)


def device_search_q(text: str) -> Q:
    """A MAC in any form, a serial, a name or an id."""
    text = text.strip()
    q = Q(serial_number__iexact=text) | Q(name__icontains=text) | Q(id__iexact=text)
    try:
        q |= Q(macs__mac=normalize_mac(text))
    except InvalidMac:
        if len(text) >= 4:
            # A partial MAC ("f7:a4", "F7-A4") still finds devices.
            fragment = text.lower().replace("-", ":").replace(".", "")
            q |= Q(macs__mac__contains=fragment)
    return q


def device_list(*, user=None) -> QuerySet[Device]:
    """The devices *user* may see, newest change first; inventory.filters.DeviceFilter narrows
    it for both the portal and the admin API."""
    qs = device_queryset(user)
    return (
        qs.distinct()
        .select_related("spec", "organization")
        .prefetch_related(Prefetch("macs", queryset=DeviceMac.objects.order_by("interface", "mac")))
        .order_by("-updated_at", "id")
    )


def device_get(*, device_id: str, user=None) -> Device:
    device = (
        device_queryset(user)
        .select_related("spec", "organization", "request")
        .prefetch_related("macs")
        .filter(pk=lookup_key(device_id, field="device_id"))
        .first()
    )
    if device is None:
        raise NotFound("unknown_device", f"no device {device_id!r}", field="device_id")
    return device


def device_history(device: Device):
    return device.history.select_related("actor", "submission").order_by("-created_at", "-id")


def device_submissions(device: Device) -> QuerySet[Submission]:
    return device.submissions.order_by("-received_at", "-id")


def boot_events(*, user=None) -> QuerySet[BootEvent]:
    """Boot requests, newest first. Organization members see only their devices' boots
    (inventory.filters.BootEventFilter narrows them to one MAC)."""
    return restrict(BootEvent.objects.all(), user).order_by("-at", "-id")


# --- portal: dashboard, lists and pages --------------------------------------------------------

# Outcomes that wait for a person: a conflict until resolved, a rejection to be read.
ATTENTION_OUTCOMES = (SubmissionOutcome.CONFLICT, SubmissionOutcome.REJECTED)


def organizations_visible(user) -> QuerySet[Organization]:
    """The organizations *user* may see (staff: all; a member: their own)."""
    return restrict(Organization.objects.all(), user).order_by("name")


def organization_choices(user) -> QuerySet[Organization]:
    """The organizations *user* may pick in a form (staff: all)."""
    return authz.organizations(user, CHANGE)


def device_status_counts(user=None) -> dict[str, list[tuple[str, str, int]]]:
    """Devices per inventory status and per imaging status: [(value, label, count)], every
    status listed (zero included) in lifecycle order. Two queries."""
    qs = device_queryset(user).order_by()
    result = {}
    for field, choices in (
        ("inventory_status", InventoryStatus),
        ("imaging_status", ImagingStatus),
    ):
        counts = dict(qs.values_list(field).annotate(n=Count("pk")))
        result[field] = [(value, label, counts.get(value, 0)) for value, label in choices.choices]
    return result


def latest_inventories(user=None, *, limit: int = 10) -> QuerySet[DeviceHistory]:
    """The latest inventory entries (a device created or changed by a submission)."""
    return (
        restrict(DeviceHistory.objects.filter(kind=HistoryKind.INVENTORY), user)
        .select_related("device", "device__spec", "submission")
        .order_by("-created_at", "-id")[:limit]
    )


def flagged_devices(user=None) -> QuerySet[Device]:
    """Devices waiting for their next network boot to be inventoried."""
    return (
        device_queryset(user)
        .filter(flagged_for_inventory=True)
        .select_related("organization")
        .prefetch_related("macs")
        .order_by("-updated_at", "id")
    )


def devices_failing_spec(user=None) -> QuerySet[Device]:
    """Devices whose latest inventory fails their spec's requirements."""
    return (
        device_queryset(user)
        .filter(fails_spec=True)
        .select_related("spec", "organization")
        .order_by("-updated_at", "id")
    )


def submission_queryset(*, user=None, outcomes=None) -> QuerySet[Submission]:
    """The journal: staff only (a raw body may name any organization's device)."""
    qs = restrict(Submission.objects.select_related("device", "resolved_by"), user)
    if outcomes:
        qs = qs.filter(outcome__in=list(outcomes))
    return qs.order_by("-received_at", "-id")


def submission_attention_counts(*, rejected_days: int = 7) -> dict[str, int]:
    """Open conflicts (all of them), rejections of the last *rejected_days* days and suspect
    serials waiting for staff's decision."""
    since = timezone.now() - timedelta(days=rejected_days)
    return {
        "conflict": Submission.objects.filter(outcome=SubmissionOutcome.CONFLICT).count(),
        "rejected": Submission.objects.filter(
            outcome=SubmissionOutcome.REJECTED, received_at__gte=since
        ).count(),
        "suspect_serial": SuspectSerial.objects.filter(state=SerialState.SUSPECT).count(),
    }


def submission_get(*, submission_id: int, user=None) -> Submission:
    entry = submission_queryset(user=user).filter(pk=submission_id).first()
    if entry is None:
        raise NotFound("unknown_submission", f"no submission #{submission_id}", field="id")
    return entry


def request_list(user=None) -> QuerySet[DeviceRequest]:
    return (
        request_queryset(user)
        .select_related("organization", "spec")
        .prefetch_related(Prefetch("macs", queryset=RequestMac.objects.order_by("mac")))
        .annotate(device_count=Count("devices", distinct=True))
        .order_by("-created_at", "-id")
    )


def request_get(*, request_id: int, user=None) -> DeviceRequest:
    req = request_list(user).filter(pk=request_id).first()
    if req is None:
        raise NotFound("unknown_request", f"no device request {request_id}", field="id")
    return req


def spec_list() -> QuerySet[DeviceSpec]:
    return DeviceSpec.objects.annotate(device_count=Count("devices")).order_by("name")


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.annotate(
        device_count=Count("devices", distinct=True),
        request_count=Count("requests", distinct=True),
    ).order_by("name")


def audit_entries(
    *, user=None, object_type: str | None = None, object_id=None
) -> QuerySet[AuditEntry]:
    """The audit trail: staff only."""
    qs = restrict(AuditEntry.objects.select_related("actor"), user)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=str(object_id))
    return qs.order_by("-created_at", "-id")


def device_changes_by_people(*, limit: int = 50) -> QuerySet[DeviceHistory]:
    """The latest device history entries that a person (not a device) caused."""
    return (
        DeviceHistory.objects.filter(actor__isnull=False)
        .select_related("actor", "device")
        .order_by("-created_at", "-id")[:limit]
    )


# Suspect serials first (they wait for staff), then the decided ones, newest first in each.
SERIAL_STATE_ORDER = (SerialState.SUSPECT, SerialState.CONFIRMED, SerialState.CLEARED)


def suspect_serials(*, user=None) -> QuerySet[SuspectSerial]:
    """The serials the rule found: staff only (one spans organizations, like a conflict)."""
    order = Case(
        *(When(state=state, then=Value(i)) for i, state in enumerate(SERIAL_STATE_ORDER)),
        output_field=IntegerField(),
    )
    qs = restrict(SuspectSerial.objects.select_related("decided_by"), user)
    return qs.annotate(state_order=order).order_by("state_order", "-detected_at", "-id")


def suspect_serial_get(*, suspect_id: int, user=None) -> SuspectSerial:
    found = suspect_serials(user=user).filter(pk=suspect_id).first()
    if found is None:
        raise NotFound("unknown_serial", f"no suspect serial {suspect_id}", field="id")
    return found


def serial_reports(suspects, *, user=None) -> list[dict]:
    """Each suspect serial with its MAC sets (the device each went to, when *user* may see it),
    the machines they make, how many devices hold the serial and the merges waiting for a
    person. Three queries whatever the number of serials."""
    suspects = list(suspects)
    names = [s.serial for s in suspects]
    sightings = list(
        SerialSighting.objects.filter(serial__in=names)
        .select_related("merge_submission")
        .order_by("serial", "first_seen", "id")
    )
    visible = set(
        device_queryset(user)
        .filter(pk__in={r.device_id for r in sightings if r.device_id})
        .values_list("pk", flat=True)
    )
    holders = dict(
        Device.objects.filter(serial_number__in=names)
        .values_list("serial_number")
        .annotate(n=Count("id"))
    )
    reports = []
    for suspect in suspects:
        rows = [r for r in sightings if r.serial == suspect.serial]
        reports.append(
            {
                "suspect": suspect,
                "machines": count_machines(r.macs for r in rows),
                "devices": holders.get(suspect.serial, 0),
                "sightings": [
                    {
                        "macs": r.macs,
                        "device_id": r.device_id if r.device_id in visible else None,
                        "first_seen": r.first_seen,
                        "last_seen": r.last_seen,
                        "merge_submission_id": r.merge_submission_id,
                    }
                    for r in rows
                ],
                "open_conflicts": [
                    r.merge_submission_id
                    for r in rows
                    if r.merge_submission is not None
                    and r.merge_submission.outcome == SubmissionOutcome.CONFLICT
                ],
            }
        )
    return reports


# --- webhooks ----------------------------------------------------------------------------------


def webhook_list(user) -> QuerySet[WebhookSubscription]:
    """The subscriptions *user* manages (staff: all; an organization's admins: its own)."""
    qs = WebhookSubscription.objects.select_related("organization").order_by("pk")
    return restrict(qs, user, MANAGE)


def webhook_get(*, user, pk: int) -> WebhookSubscription:
    sub = webhook_list(user).filter(pk=pk).first()
    if sub is None:
        raise NotFound("unknown_webhook", f"no webhook subscription {pk!r}", field="id")
    return sub


def webhook_deliveries(*, user, subscription: WebhookSubscription | None = None):
    """Newest first, each with its event and its log of tries."""
    qs = restrict(WebhookDelivery.objects.all(), user, MANAGE)
    if subscription is not None:
        qs = qs.filter(subscription=subscription)
    return qs.select_related("event", "subscription").prefetch_related("log").order_by("-pk")


def webhook_delivery_get(*, user, pk: int) -> WebhookDelivery:
    delivery = webhook_deliveries(user=user).filter(pk=pk).first()
    if delivery is None:
        raise NotFound("unknown_delivery", f"no webhook delivery {pk!r}", field="id")
    return delivery
