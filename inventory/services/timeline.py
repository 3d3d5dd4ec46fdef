"""The boot timeline: the steps of a device's onboarding, as the product itself saw them.

One table (BootEvent) holds every step: the boot script served (and its branch), the kernel and
the initrd fetched (the boot script reports them to /pxe/progress with the per-boot token; in
production nginx serves the images, so the downloads themselves are not seen), the agent started,
each collection step that failed, the submission's outcome, the chain to imaging and the imaging
report. The live view asks for the latest step of each MAC; a device with no step for longer than
ARROW_STUCK_AFTER_S is stuck there, with a hint that names what never happened.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from inventory.authz import restrict
from inventory.choices import BootStep, SubmissionOutcome
from inventory.models import BootEvent, Device, DeviceMac, RequestMac, Submission

log = logging.getLogger(__name__)

MAX_COLLECTION_ERRORS = 20  # of one submission, recorded as steps (the journal keeps them all)

# What should have happened after each step, and where to look when it did not.
NEXT_HINT = {
    BootStep.BOOT: (
        "kernel never fetched",
        "check the HTTP path from the device to the image (nginx, ARROW_PUBLIC_URL)",
    ),
    BootStep.KERNEL: ("initrd never fetched", "check the image server and the network"),
    BootStep.INITRD: ("agent never started", "check the image and the NIC driver"),
    BootStep.AGENT: (
        "no inventory submitted",
        "check the device's console: collection, or the route to the backend",
    ),
    BootStep.COLLECT_FAILED: (
        "no inventory submitted",
        "check the device's console: collection, or the route to the backend",
    ),
    BootStep.SUBMIT: (
        "never booted to imaging",
        "check that the device rebooted and boots from the network first",
    ),
    BootStep.IMAGING: ("no imaging report", "check the imaging service"),
}


def timeline_record(
    *,
    step: str,
    mac: str,
    device_id: str | None = None,
    detail: dict | None = None,
    remote_addr: str | None = None,
    action: str = "",
    reason: str = "",
) -> BootEvent:
    return BootEvent.objects.create(
        step=step,
        mac=mac,
        device_id=device_id,
        detail=detail or {},
        remote_addr=remote_addr,
        action=action,
        reason=reason[:300],
    )


def _device_of_mac(mac: str) -> str | None:
    return (
        DeviceMac.objects.filter(mac=mac, shared=False).values_list("device_id", flat=True).first()
    )


def timeline_progress(*, mac: str, step: str, remote_addr: str | None = None) -> BootEvent:
    """A step the boot script or the agent reported for the MAC its per-boot token is bound to."""
    return timeline_record(
        step=step, mac=mac, device_id=_device_of_mac(mac), remote_addr=remote_addr
    )


def _collection_errors(body: bytes) -> list[dict]:
    try:
        data = json.loads(body)
        errors = data["inventory_data"]["hardware"]["collection_errors"]
    except (ValueError, TypeError, KeyError):
        return []
    if not isinstance(errors, list):
        return []
    keep = ("collector", "stage", "message")
    return [
        {k: str(e.get(k, ""))[:200] for k in keep}
        for e in errors[:MAX_COLLECTION_ERRORS]
        if isinstance(e, dict)
    ]


def _submission_mac(entry: Submission, bound_mac: str | None) -> str | None:
    if bound_mac:
        return bound_mac
    if entry.device_id:
        return (
            DeviceMac.objects.filter(device_id=entry.device_id, shared=False)
            .values_list("mac", flat=True)
            .first()
        )
    return None


def timeline_submission(*, entry: Submission, bound_mac: str | None) -> None:
    """The collection steps that failed and the outcome of a journaled submission. A submission
    that names no device and holds no token has no MAC to put on a timeline: the journal has it.
    Never raises: the timeline must not change the answer the device gets."""
    try:
        mac = _submission_mac(entry, bound_mac)
        if mac is None:
            return
        device_id = entry.device_id or _device_of_mac(mac)
        for error in _collection_errors(bytes(entry.body)):
            timeline_record(
                step=BootStep.COLLECT_FAILED, mac=mac, device_id=device_id, detail=error
            )
        error = entry.error if isinstance(entry.error, dict) else {}
        detail = {"outcome": entry.outcome, "submission": entry.pk, "code": error.get("code", "")}
        if error.get("spec_mismatches"):
            detail["spec_mismatches"] = [str(m)[:200] for m in error["spec_mismatches"][:10]]
        timeline_record(
            step=BootStep.SUBMIT,
            mac=mac,
            device_id=device_id,
            detail=detail,
            remote_addr=entry.remote_addr,
        )
    except Exception:  # the answer to the device matters more than its timeline
        log.exception("submission %s: timeline not recorded", entry.pk)


def timeline_imaging_report(*, device: Device, status: str, reason: str = "") -> None:
    mac = (
        DeviceMac.objects.filter(device=device, shared=False).values_list("mac", flat=True).first()
    )
    timeline_record(
        step=BootStep.IMAGED,
        mac=mac or "",
        device_id=device.pk,
        detail={"status": status, "reason": reason[:300]},
    )


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    event: BootEvent
    label: str
    since_previous: timedelta | None


def step_label(event: BootEvent) -> str:
    """What a person reads for one step: "Boot script served (inventory)"."""
    name = BootStep(event.step).label if event.step in BootStep.values else event.step
    detail = event.detail or {}
    if event.step in (BootStep.BOOT, BootStep.IMAGING) and event.action:
        return f"{name} ({event.action})"
    if event.step == BootStep.SUBMIT:
        fails = ", hardware fails its spec" if detail.get("spec_mismatches") else ""
        return f"{name}: {detail.get('outcome', '?')}{fails}"
    if event.step == BootStep.COLLECT_FAILED:
        return f"{name}: {detail.get('collector', '?')}/{detail.get('stage', '?')}"
    if event.step == BootStep.IMAGED:
        return f"{name}: {detail.get('status', '?')}"
    return name


def device_timeline(device: Device, *, limit: int = 200) -> list[TimelineStep]:
    """The device's steps, oldest first, each with the time since the one before: the events
    that name the device and those of its MACs from before it existed (a first boot)."""
    macs = list(device.macs.filter(shared=False).values_list("mac", flat=True))
    qs = BootEvent.objects.filter(Q(device=device) | Q(device__isnull=True, mac__in=macs))
    events = list(reversed(qs.order_by("-at", "-id")[:limit]))
    steps, previous = [], None
    for event in events:
        gap = event.at - previous if previous is not None else None
        steps.append(TimelineStep(event, step_label(event), gap))
        previous = event.at
    return steps


def is_finished(event: BootEvent) -> bool:
    """The onboarding ended here: imaged (or failed), or the device was told to boot locally."""
    if event.step == BootStep.IMAGED:
        return True
    if event.step == BootStep.BOOT and event.action == "local":
        return True
    return event.step == BootStep.SUBMIT and event.detail.get("outcome") in (
        SubmissionOutcome.REJECTED,
        SubmissionOutcome.CONFLICT,
    )


def stuck_after(step: str) -> timedelta:
    if step == BootStep.IMAGING:
        return timedelta(seconds=settings.ARROW_IMAGING_STUCK_AFTER_S)
    return timedelta(seconds=settings.ARROW_STUCK_AFTER_S)


def humane(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def stuck_hint(event: BootEvent, now: datetime) -> str | None:
    """None while the device is moving; else what happened last, how long ago, what did not
    happen since and where to look: "Kernel fetched 6 min ago, initrd never fetched: ..."."""
    age = now - event.at
    if is_finished(event) or age < stuck_after(event.step):
        return None
    missing, advice = NEXT_HINT.get(event.step, ("no progress", "check the device"))
    return f"{step_label(event)} {humane(age)} ago, {missing}: {advice}"


@dataclass(frozen=True)
class LiveDevice:
    event: BootEvent
    label: str
    age: timedelta
    age_text: str
    stuck: str | None
    group: str


def _latest_ids(events: QuerySet[BootEvent]) -> list[int]:
    return list(events.values("mac").annotate(last=Max("id")).values_list("last", flat=True))


def _group_names(macs: list[str]) -> dict[str, str]:
    """The open request each MAC is waiting for, as "Organization / request #N"."""
    rows = RequestMac.objects.filter(mac__in=macs, open=True).select_related(
        "request__organization"
    )
    return {r.mac: f"{r.request.organization.name} / request #{r.request_id}" for r in rows}


def _group(event: BootEvent, by_request: dict[str, str]) -> str:
    if event.mac in by_request:
        return by_request[event.mac]
    if event.device_id and event.device.organization_id:
        return event.device.organization.name
    return "No organization yet"


def onboarding_live(*, user, now: datetime | None = None) -> list[LiveDevice]:
    """Devices onboarding now: the latest step of each MAC seen in the last
    ARROW_LIVE_WINDOW_S, unless the onboarding finished there; stuck ones first."""
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.ARROW_LIVE_WINDOW_S)
    recent = restrict(BootEvent.objects.filter(at__gte=since).exclude(mac=""), user)
    latest = (
        BootEvent.objects.filter(pk__in=_latest_ids(recent))
        .select_related("device__organization")
        .order_by("at", "id")
    )
    events = [e for e in latest if not is_finished(e)]
    groups = _group_names([e.mac for e in events])
    rows = []
    for event in events:
        age = now - event.at
        rows.append(
            LiveDevice(
                event,
                step_label(event),
                age,
                humane(age),
                stuck_hint(event, now),
                _group(event, groups),
            )
        )
    rows.sort(key=lambda r: (r.group, r.stuck is None, -r.age))
    return rows
