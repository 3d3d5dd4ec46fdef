"""The inventory API: the three documented service endpoints and the admin API.

Handlers authenticate (declared on the router), parse, call one service or selector and shape
the output. Errors are InventoryError, turned into JSON once in arrow/api.py.
"""

from __future__ import annotations

import json
from typing import Annotated

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Status

from inventory import authz, filters, metrics, selectors
from inventory.auth import AdminToken, BootTokenKey, ServiceKey
from inventory.choices import BootStep
from inventory.errors import NotFound
from inventory.models import Device, DeviceRequest, DeviceSpec, Organization
from inventory.schemas import (
    BootEventOut,
    BulkLineOut,
    CheckMacIn,
    CheckMacOut,
    DeviceDetailOut,
    DeviceEditIn,
    DeviceOut,
    ErrorOut,
    ImagingStatusIn,
    ImagingStatusOut,
    OrganizationIn,
    OrganizationOut,
    QuickAddBulkIn,
    QuickAddIn,
    RequestIn,
    RequestOut,
    SerialDecideIn,
    SerialOut,
    SpecIn,
    SpecOut,
    StartedOut,
    SubmitIn,
    SubmitOut,
    UpdateStatusIn,
    UpdateStatusOut,
    WebhookCreatedOut,
    WebhookDeliveryOut,
    WebhookEditIn,
    WebhookIn,
    WebhookOut,
    openapi_body,
)
from inventory.services import catalog, devices, serials, webhooks
from inventory.services.boot import boot_decide_for_mac
from inventory.services.pxe import device_imaging_report, device_imaging_requeue
from inventory.services.status import device_status_bulk_update
from inventory.services.submission import (
    submission_process,
    submission_record,
    submission_reject_too_large,
)
from inventory.services.timeline import timeline_progress, timeline_submission

service = Router(tags=["inventory service"], auth=ServiceKey())
admin = Router(tags=["admin"], auth=AdminToken())

# Bounds of every id, page and filter parameter: beyond them nothing can match, and the database
# should not be asked (an id past bigint, a page whose offset overflows, a 1 MB search).
MAX_PAGE = 1_000_000
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
DeviceId = Annotated[str, Path(max_length=64)]

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 503: ErrorOut}
SERVICE_ERRORS = {**ERRORS, 413: ErrorOut}
# Of a body over DATA_UPLOAD_MAX_MEMORY_SIZE, the journal keeps this much (docs/deployment.md).
JOURNAL_PREFIX_BYTES = 64 * 1024


@service.post("/check-mac", response={200: CheckMacOut, **SERVICE_ERRORS})
def check_mac(request: HttpRequest, payload: CheckMacIn):
    with metrics.observe("check_mac", metrics.CHECK_MAC) as seen:
        decision = boot_decide_for_mac(payload.mac_address)
        seen.outcome = "needs_inventory" if decision.needs_inventory else "no_inventory"
    # The hot path when a rack powers on: three plain values, so the JSON is built here rather
    # than by ninja's response validation and encoder (the schema above still documents it).
    body = {
        "needs_inventory": decision.needs_inventory,
        "device_id": decision.device_id,
        "organization": decision.organization,
    }
    return HttpResponse(json.dumps(body), content_type="application/json; charset=utf-8")


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _chunked(request: HttpRequest) -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH")


def _read_body(request: HttpRequest, limit: int | None) -> tuple[bytes, int]:
    """The body as received (of one over *limit*, its first JOURNAL_PREFIX_BYTES) and its size.

    A chunked body has no Content-Length, so Django would read it as empty: it is read from the
    server's (de-chunked) stream instead, up to one byte past the limit."""
    if _chunked(request):
        stream = request.environ["wsgi.input"]
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        too_large = limit is not None and len(raw) > limit
        return (raw[:JOURNAL_PREFIX_BYTES] if too_large else raw), len(raw)
    size = _declared_size(request)
    if limit is not None and size > limit:
        # request.body refuses an oversized body; its first bytes still go to the journal.
        return request.read(JOURNAL_PREFIX_BYTES), size
    return request.body, size


@service.post(
    "/submit",
    response={200: SubmitOut, **SERVICE_ERRORS},
    openapi_extra=openapi_body(SubmitIn),
    auth=[BootTokenKey(), ServiceKey()],
)
def submit(request: HttpRequest):
    with metrics.observe("submit", metrics.SUBMIT) as seen:
        return _submit(request, seen)


def _submit(request: HttpRequest, seen: metrics.Observation):
    # No typed body on purpose: ninja would reject a malformed body before we could journal it;
    # the service validates it with SubmitIn, which documents it above (docs/decisions.md).
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw, size = _read_body(request, limit)
    entry = submission_record(
        raw=raw,
        headers=dict(request.headers),
        remote_addr=request.META.get("REMOTE_ADDR"),
        credential=getattr(request, "arrow_credential", ""),
    )
    bound_mac = getattr(request, "arrow_bound_mac", None)
    try:
        if limit is not None and size > limit:
            submission_reject_too_large(entry=entry, size=size, limit=limit)
        return submission_process(
            entry=entry, bound_mac=bound_mac, token_id=getattr(request, "arrow_token_id", None)
        )
    finally:
        seen.outcome = entry.outcome
        timeline_submission(entry=entry, bound_mac=bound_mac)


@service.post("/started", response={200: StartedOut, **SERVICE_ERRORS}, auth=[BootTokenKey()])
def started(request: HttpRequest):
    """The agent reports that it runs, before it collects (per-boot token only: the token names
    the MAC that booted). A timeline step; the agent goes on whatever the answer."""
    event = timeline_progress(
        mac=request.arrow_bound_mac,
        step=BootStep.AGENT,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return {"mac": event.mac, "step": event.step}


@service.post("/imaging-status", response={200: ImagingStatusOut, **SERVICE_ERRORS})
def imaging_status(request: HttpRequest, payload: ImagingStatusIn):
    """The imaging system reports a device imaged or failed (with a reason)."""
    device = device_imaging_report(**payload.dict())
    return {
        "device_id": device.pk,
        "imaging_status": device.imaging_status,
        "request_status": device.request.status if device.request_id else None,
    }


@service.post("/update-status", response={200: UpdateStatusOut, **SERVICE_ERRORS})
def update_status(request: HttpRequest, payload: UpdateStatusIn):
    updated = device_status_bulk_update(
        device_ids=payload.device_ids, new_status=payload.new_status
    )
    return {"updated": updated, "new_status": payload.new_status}


# --- admin API: organizations, specs, requests --------------------------------------------------


def _staff_only(request: HttpRequest) -> None:
    authz.require_staff(request.user, "change organizations and specs")


@admin.get("/organizations", response={200: list[OrganizationOut], **ERRORS})
def organization_list(request):
    return list(selectors.organizations_visible(request.user))


@admin.post("/organizations", response={201: OrganizationOut, **ERRORS})
def organization_create(request, payload: OrganizationIn):
    _staff_only(request)
    return Status(201, catalog.organization_save(actor=request.user, **payload.dict()))


@admin.put("/organizations/{org_id}", response={200: OrganizationOut, **ERRORS})
def organization_edit(request, org_id: Id, payload: OrganizationIn):
    _staff_only(request)
    _exists(selectors.organization_list(), org_id, "organization")
    return catalog.organization_save(pk=org_id, actor=request.user, **payload.dict())


@admin.delete("/organizations/{org_id}", response={204: None, **ERRORS})
def organization_delete(request, org_id: Id):
    _staff_only(request)
    catalog.catalog_delete(model=Organization, pk=org_id, actor=request.user)
    return Status(204, None)


@admin.get("/specs", response={200: list[SpecOut], **ERRORS})
def spec_list(request):
    return list(selectors.spec_list())


@admin.post("/specs", response={201: SpecOut, **ERRORS})
def spec_create(request, payload: SpecIn):
    _staff_only(request)
    return Status(201, catalog.spec_save(actor=request.user, **payload.dict()))


@admin.put("/specs/{spec_id}", response={200: SpecOut, **ERRORS})
def spec_edit(request, spec_id: Id, payload: SpecIn):
    _staff_only(request)
    _exists(selectors.spec_list(), spec_id, "spec")
    return catalog.spec_save(pk=spec_id, actor=request.user, **payload.dict())


@admin.delete("/specs/{spec_id}", response={204: None, **ERRORS})
def spec_delete(request, spec_id: Id):
    _staff_only(request)
    catalog.catalog_delete(model=DeviceSpec, pk=spec_id, actor=request.user)
    return Status(204, None)


def _request_out(req: DeviceRequest) -> dict:
    return {
        "id": req.pk,
        "organization": req.organization.name,
        "spec": req.spec.name if req.spec_id else None,
        "status": req.status,
        "target_macs": sorted(m.mac for m in req.macs.all()),
        "note": req.note,
        "created_at": req.created_at,
    }


@admin.get(
    "/requests",
    response={200: list[RequestOut], **ERRORS},
    openapi_extra=filters.openapi_parameters(filters.RequestFilter),
)
def request_list(request):
    qs = filters.filtered(filters.RequestFilter, request, selectors.request_list(request.user))
    return [_request_out(r) for r in qs]


@admin.post("/requests", response={201: RequestOut, **ERRORS})
def request_create(request, payload: RequestIn):
    return Status(201, _request_out(catalog.request_save(actor=request.user, **payload.dict())))


@admin.get("/requests/{req_id}", response={200: RequestOut, **ERRORS})
def request_get(request, req_id: Id):
    return _request_out(selectors.request_get(request_id=req_id, user=request.user))


@admin.put("/requests/{req_id}", response={200: RequestOut, **ERRORS})
def request_edit(request, req_id: Id, payload: RequestIn):
    return _request_out(catalog.request_save(pk=req_id, actor=request.user, **payload.dict()))


# --- admin API: devices -------------------------------------------------------------------------


def _device_out(device: Device) -> dict:
    return {
        **{f: getattr(device, f) for f in DeviceOut.model_fields if hasattr(device, f)},
        "spec": device.spec.name if device.spec_id else None,
        "organization": device.organization.name if device.organization_id else None,
        "macs": [
            {"mac": m.mac, "interface": m.interface, "shared": m.shared} for m in device.macs.all()
        ],
    }


# Quick MAC Inventory comes before /devices/{device_id}: Django tries paths in order, and
# "quick-add" would otherwise be taken for a device id (answering 405 to its POST).
@admin.post("/devices/quick-add", response={201: DeviceOut, **ERRORS})
def quick_add(request, payload: QuickAddIn):
    device = devices.device_quick_add(
        mac_address=payload.mac_address, organization=payload.organization, actor=request.user
    )
    return Status(201, _device_out(selectors.device_get(device_id=device.pk)))


@admin.post("/devices/quick-add/bulk", response={200: list[BulkLineOut], **ERRORS})
def quick_add_bulk(request, payload: QuickAddBulkIn):
    lines = payload.macs if payload.macs is not None else (payload.csv or "")
    return devices.device_quick_add_bulk(
        macs=lines, organization=payload.organization, actor=request.user
    )


@admin.get(
    "/devices",
    response={200: list[DeviceOut], **ERRORS},
    openapi_extra=filters.openapi_parameters(filters.DeviceFilter),
)
def device_list(
    request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=500),
):
    qs = filters.filtered(filters.DeviceFilter, request, selectors.device_list(user=request.user))
    start = (page - 1) * page_size
    return [_device_out(d) for d in qs[start : start + page_size]]


@admin.get("/devices/{device_id}", response={200: DeviceDetailOut, **ERRORS})
def device_detail(request, device_id: DeviceId):
    device = selectors.device_get(device_id=device_id, user=request.user)
    return {
        **_device_out(device),
        "hardware": device.hardware,
        "history": [
            {
                "created_at": h.created_at,
                "kind": h.kind,
                "changes": h.changes,
                "note": h.note,
                "submission_id": h.submission_id,
                "actor": h.actor.username if h.actor_id else None,
            }
            for h in selectors.device_history(device)
        ],
        "submissions": [
            {
                "id": s.id,
                "received_at": s.received_at,
                "outcome": s.outcome,
                "error": s.error,
                "device_id": s.device_id,
                "conflict_device_ids": s.conflict_device_ids,
                "body": s.body_text,
                "remote_addr": s.remote_addr,
            }
            for s in selectors.device_submissions(device)
        ],
    }


@admin.patch("/devices/{device_id}", response={200: DeviceOut, **ERRORS})
def device_edit(request, device_id: DeviceId, payload: DeviceEditIn):
    fields = payload.dict(exclude_unset=True)
    device = devices.device_update(device_id=device_id, actor=request.user, **fields)
    return _device_out(selectors.device_get(device_id=device.pk))


@admin.post("/devices/{device_id}/requeue-imaging", response={200: DeviceOut, **ERRORS})
def requeue_imaging(request, device_id: DeviceId):
    device = device_imaging_requeue(device_id=device_id, actor=request.user)
    return _device_out(selectors.device_get(device_id=device.pk))


@admin.get(
    "/boot-events",
    response={200: list[BootEventOut], **ERRORS},
    openapi_extra=filters.openapi_parameters(filters.BootEventFilter),
)
def boot_events(request, limit: int = Query(100, ge=1, le=1000)):
    """Who tried to boot and what they were told (unknown MACs included)."""
    qs = filters.filtered(
        filters.BootEventFilter, request, selectors.boot_events(user=request.user)
    )
    return list(qs[:limit])


# --- admin API: suspect serials (staff) ----------------------------------------------------------


def _serial_out(report: dict) -> dict:
    suspect = report["suspect"]
    return {
        "id": suspect.pk,
        "serial": suspect.serial,
        "state": suspect.state,
        "detected_at": suspect.detected_at,
        "decided_at": suspect.decided_at,
        "decided_by": suspect.decided_by.username if suspect.decided_by_id else None,
        "note": suspect.note,
        **{k: report[k] for k in ("machines", "devices", "sightings", "open_conflicts")},
    }


@admin.get(
    "/serials",
    response={200: list[SerialOut], **ERRORS},
    openapi_extra=filters.openapi_parameters(filters.SerialFilter),
)
def serial_list(request):
    """Serials reported by several machines: placeholders until staff decide."""
    authz.require_staff(request.user, "see suspect serials")
    qs = filters.filtered(
        filters.SerialFilter, request, selectors.suspect_serials(user=request.user)
    )
    return [_serial_out(r) for r in selectors.serial_reports(qs, user=request.user)]


@admin.post("/serials/{serial_id}/decide", response={200: SerialOut, **ERRORS})
def serial_decide(request, serial_id: Id, payload: SerialDecideIn):
    """confirm: the serial stays a placeholder; clear: it identifies devices again."""
    suspect = serials.serial_decide(
        suspect_id=serial_id, decision=payload.decision, note=payload.note, actor=request.user
    )
    return _serial_out(selectors.serial_reports([suspect], user=request.user)[0])


# --- admin API: webhooks -------------------------------------------------------------------------


def _webhook_out(sub) -> dict:
    return {
        "id": sub.pk,
        "url": sub.url,
        "event_types": list(sub.event_types),
        "organization": sub.organization.name if sub.organization_id else None,
        "description": sub.description,
        "active": sub.active,
        "created_at": sub.created_at,
    }


DELIVERY_FIELDS = ("id", "subscription_id", "state", "attempts", "next_attempt_at")
DELIVERY_FIELDS += ("last_status_code", "last_error", "finished_at")


def _delivery_out(delivery) -> dict:
    return {
        **{f: getattr(delivery, f) for f in DELIVERY_FIELDS},
        "event_id": delivery.event.event_id,
        "event_type": delivery.event.type,
        "log": list(delivery.log.all()),
    }


@admin.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
def webhook_list(request):
    """The subscriptions the caller manages: staff all, an organization's admins their own."""
    return [_webhook_out(s) for s in selectors.webhook_list(request.user)]


@admin.post("/webhooks", response={201: WebhookCreatedOut, **ERRORS})
def webhook_create(request, payload: WebhookIn):
    """A new subscription; the answer carries its secret, which is never shown again."""
    sub, secret = webhooks.webhook_subscription_create(actor=request.user, **payload.dict())
    return Status(201, {**_webhook_out(sub), "secret": secret})


@admin.get("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def webhook_get(request, webhook_id: Id):
    return _webhook_out(selectors.webhook_get(user=request.user, pk=webhook_id))


@admin.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS})
def webhook_edit(request, webhook_id: Id, payload: WebhookEditIn):
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    sub = webhooks.webhook_subscription_update(actor=request.user, pk=webhook_id, **fields)
    return _webhook_out(selectors.webhook_get(user=request.user, pk=sub.pk))


@admin.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS})
def webhook_delete(request, webhook_id: Id):
    webhooks.webhook_subscription_delete(actor=request.user, pk=webhook_id)
    return Status(204, None)


@admin.get("/webhooks/{webhook_id}/deliveries", response={200: list[WebhookDeliveryOut], **ERRORS})
def webhook_deliveries(request, webhook_id: Id, limit: int = Query(100, ge=1, le=1000)):
    """Newest first, each with its log of tries (attempt, status code, error, duration)."""
    sub = selectors.webhook_get(user=request.user, pk=webhook_id)
    rows = selectors.webhook_deliveries(user=request.user, subscription=sub)[:limit]
    return [_delivery_out(d) for d in rows]


@admin.get("/webhook-deliveries/{delivery_id}", response={200: WebhookDeliveryOut, **ERRORS})
def webhook_delivery(request, delivery_id: Id):
    return _delivery_out(selectors.webhook_delivery_get(user=request.user, pk=delivery_id))


@admin.post(
    "/webhook-deliveries/{delivery_id}/redeliver", response={200: WebhookDeliveryOut, **ERRORS}
)
def webhook_redeliver(request, delivery_id: Id):
    """Queues the delivery again at once: the same event id and body, a new signature."""
    webhooks.webhook_redeliver(actor=request.user, delivery_id=delivery_id)
    return _delivery_out(selectors.webhook_delivery_get(user=request.user, pk=delivery_id))


# --- helpers shared by the handlers above --------------------------------------------------------


def _not_found(what: str, key):
    return NotFound(f"unknown_{what}", f"no {what} {key!r}", field="id")


def _exists(listing, pk, what: str) -> None:
    if not listing.filter(pk=pk).exists():
        raise _not_found(what, pk)
