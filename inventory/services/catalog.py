"""Organizations, device specs and device requests: create, edit, cancel."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from inventory import authz
from inventory.choices import OPEN_REQUEST_STATUSES, AuditAction, RequestStatus
from inventory.errors import Conflict, NotFound, ValidationFailed, field_path
from inventory.models import DeviceMac, DeviceRequest, DeviceSpec, Organization, RequestMac
from inventory.services.audit import audit_diff, audit_record
from inventory.services.devices import mac_registered, organization_by_name, spec_by_name_or_id
from inventory.services.macs import normalize_mac
from inventory.services.speccheck import requirements_clean
from inventory.services.text import free_form_problem, storable_problem, text_problem
from inventory.services.webhooks import emit_request_fulfilled


def _refuse(field: str, problem: tuple[str, str] | None) -> None:
    if problem:
        raise ValidationFailed([{"field": field, "code": problem[0], "message": problem[1]}])


def _required_text(value: object, field: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed([{"field": field, "code": "required", "message": "is required"}])
    if len(value) > limit:
        raise ValidationFailed(
            [{"field": field, "code": "too_long", "message": f"longer than {limit} characters"}]
        )
    _refuse(field, text_problem(value))
    return value.strip()


def _organization_facts(org: Organization) -> dict:
    return {"name": org.name, "slug": org.slug, "imaging_url": org.imaging_url}


def _audit_save(*, actor, object_type: str, obj, before: dict | None, after: dict) -> None:
    """An audit row for a create, or for an update that changed something."""
    if before is None:
        # A new object: only the values it was given, not every empty field.
        after = {k: v for k, v in after.items() if v not in (None, "", [], {})}
    changes = audit_diff(before or {}, after)
    if before is None or changes:
        action = AuditAction.CREATED if before is None else AuditAction.UPDATED
        audit_record(
            actor=actor,
            object_type=object_type,
            object_id=obj.pk,
            object_repr=str(obj),
            action=action,
            changes=changes,
        )


def _optional_text(value: object, field: str) -> str:
    text = value if isinstance(value, str) else ""
    _refuse(field, text_problem(text))
    return text.strip()


@transaction.atomic
def organization_save(
    *,
    name: object,
    slug: object = None,
    imaging_url: str = "",
    pk: int | None = None,
    actor=None,
) -> Organization:
    name = _required_text(name, "name")
    slug_text = slugify(slug or name)[:100]
    if not slug_text:
        raise ValidationFailed([{"field": "slug", "code": "required", "message": "is required"}])
    org = (
        Organization() if not pk else Organization.objects.select_for_update().filter(pk=pk).first()
    )
    if org is None:
        raise NotFound("unknown_organization", f"no organization {pk!r}", field="id")
    before = _organization_facts(org) if pk else None
    imaging_url = _optional_text(imaging_url, "imaging_url")
    org.name, org.slug, org.imaging_url = name, slug_text, imaging_url
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError:
        raise Conflict(
            "organization_exists", f"an organization named {name!r} exists", field="name"
        ) from None
    _audit_save(
        actor=actor,
        object_type="organization",
        obj=org,
        before=before,
        after=_organization_facts(org),
    )
    return org


@transaction.atomic
def catalog_delete(*, model, pk: int, actor=None) -> None:
    """Deletes an organization or a device spec, audited like every other change; 409 while
    something still uses it."""
    object_type = "organization" if model is Organization else "spec"
    obj = model.objects.select_for_update().filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"unknown_{object_type}", f"no {object_type} {pk!r}", field="id")
    facts = _organization_facts(obj) if model is Organization else _spec_facts(obj)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError:
        raise Conflict(
            f"{object_type}_in_use", f"{object_type} {obj} is still in use", field="id"
        ) from None
    audit_record(
        actor=actor,
        object_type=object_type,
        object_id=pk,
        object_repr=str(obj),
        action=AuditAction.DELETED,
        changes={k: [v, None] for k, v in facts.items()},
    )


def _patterns(value: object) -> list[str]:
    if value in (None, ""):
        return []
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
        raise ValidationFailed(
            [{"field": "name_patterns", "code": "type", "message": "a list of glob patterns"}]
        )
    for i, pattern in enumerate(items):
        _refuse(f"name_patterns[{i}]", text_problem(pattern))
    return [p.strip() for p in items if p.strip()]


@transaction.atomic
def spec_save(
    *,
    name: object,
    name_patterns: object = None,
    capabilities: object = None,
    imaging_url: str = "",
    requirements: object = None,
    image_anyway: object = False,
    pk: int | None = None,
    actor=None,
) -> DeviceSpec:
    """Creates or edits a device spec. *requirements*: what its devices must have
    (services/speccheck.py); *image_anyway*: a device failing them still goes to imaging."""
    name = _required_text(name, "name")
    required = requirements_clean(requirements)
    if not isinstance(image_anyway, bool):
        raise ValidationFailed(
            [{"field": "image_anyway", "code": "type", "message": "must be true or false"}]
        )
    if capabilities is not None and not isinstance(capabilities, dict):
        raise ValidationFailed(
            [{"field": "capabilities", "code": "type", "message": "must be an object"}]
        )
    if capabilities and (problem := free_form_problem(capabilities)):
        at, code, message = problem
        field = field_path(("capabilities", *at))
        raise ValidationFailed([{"field": field, "code": code, "message": message}])
    imaging_url = _optional_text(imaging_url, "imaging_url")
    spec = DeviceSpec() if not pk else DeviceSpec.objects.select_for_update().filter(pk=pk).first()
    if spec is None:
        raise NotFound("unknown_spec", f"no device spec {pk!r}", field="id")
    before = _spec_facts(spec) if pk else None
    spec.name = name
    spec.name_patterns = _patterns(name_patterns)
    spec.capabilities = capabilities or {}
    spec.imaging_url = imaging_url
    spec.requirements, spec.image_anyway = required, image_anyway
    try:
        with transaction.atomic():
            spec.save()
    except IntegrityError:
        raise Conflict(
            "spec_exists", f"a device spec named {name!r} exists", field="name"
        ) from None
    _audit_save(actor=actor, object_type="spec", obj=spec, before=before, after=_spec_facts(spec))
    return spec


def _spec_facts(spec: DeviceSpec) -> dict:
    return {
        "name": spec.name,
        "name_patterns": list(spec.name_patterns or []),
        "capabilities": dict(spec.capabilities or {}),
        "imaging_url": spec.imaging_url,
        "requirements": dict(spec.requirements or {}),
        "image_anyway": spec.image_anyway,
    }


def _macs(values: object) -> list[str]:
    if isinstance(values, str):
        values = [v for v in values.replace(",", "\n").splitlines() if v.strip()]
    if not isinstance(values, list) or not values:
        raise ValidationFailed(
            [{"field": "target_macs", "code": "required", "message": "list at least one MAC"}]
        )
    macs = [normalize_mac(v, field=f"target_macs[{i}]") for i, v in enumerate(values)]
    return list(dict.fromkeys(macs))


def _request_to_change(pk: int | None, actor) -> tuple[DeviceRequest, dict | None]:
    """The request *pk* locked, with its facts before the edit; a new one when *pk* is None."""
    if not pk:
        return DeviceRequest(), None
    base = authz.restrict(DeviceRequest.objects.all(), actor, authz.CHANGE)
    req = base.select_for_update().filter(pk=pk).first()
    if req is None:
        raise NotFound("unknown_request", f"no device request {pk}", field="id")
    return req, _request_facts(req, request_targets(req))


def _request_status(status: object) -> str:
    if status not in RequestStatus.values:
        message = f"{status!r} is not one of {', '.join(RequestStatus.values)}"
        raise ValidationFailed([{"field": "status", "code": "invalid_status", "message": message}])
    return str(status)


@transaction.atomic
def request_save(
    *,
    organization: object,
    target_macs: object,
    spec: object = None,
    status: object = None,
    note: str = "",
    pk: int | None = None,
    actor=None,
) -> DeviceRequest:
    """Creates or edits a device request; a MAC is the target of at most one open request, and
    only of a request whose organization may take the device holding it (see `_check_targets`)."""
    org = organization_by_name(organization)
    authz.require_organization(actor, org)
    macs = _macs(target_macs)
    spec_obj = spec_by_name_or_id(spec)
    req, before = _request_to_change(pk, actor)
    if status not in (None, ""):
        req.status = _request_status(status)
    _refuse("note", storable_problem(note or ""))  # a note may span lines
    req.organization, req.spec, req.note = org, spec_obj, note or ""
    req.save()
    is_open = req.status in OPEN_REQUEST_STATUSES
    if is_open:
        _check_targets(macs, req, actor)
    RequestMac.objects.filter(request=req).exclude(mac__in=macs).delete()
    existing = set(RequestMac.objects.filter(request=req).values_list("mac", flat=True))
    RequestMac.objects.bulk_create(
        RequestMac(request=req, mac=m, open=is_open) for m in macs if m not in existing
    )
    RequestMac.objects.filter(request=req).update(open=is_open)
    if req.status == RequestStatus.FULFILLED and (before or {}).get("status") != req.status:
        emit_request_fulfilled(req)
    _audit_save(
        actor=actor,
        object_type="request",
        obj=req,
        before=before,
        after=_request_facts(req, sorted(macs)),
    )
    return req


def _check_targets(macs: list[str], req: DeviceRequest, actor) -> None:
    """An open request may target a MAC that no device holds, or one whose device *actor* may
    see and that belongs to no other organization; and no other open request may target it.
    The refusal names another organization's device or request to no one who cannot see it."""
    holders = dict(
        DeviceMac.objects.filter(mac__in=macs, shared=False).values_list("mac", "device_id")
    )
    for i, mac in enumerate(macs):
        if mac in holders and not authz.device_may_join(actor, holders[mac], req.organization):
            raise mac_registered(actor, mac, holders[mac], field=f"target_macs[{i}]")
    taken = dict(
        RequestMac.objects.filter(mac__in=macs, open=True)
        .exclude(request=req)
        .values_list("mac", "request_id")
    )
    for i, mac in enumerate(macs):
        if mac in taken:
            other = taken[mac]
            visible = authz.restrict(DeviceRequest.objects.filter(pk=other), actor).exists()
            raise Conflict(
                "mac_already_requested",
                f"MAC {mac} is already the target of "
                + (f"open request #{other}" if visible else "another open request"),
                field=f"target_macs[{i}]",
                request_id=other if visible else None,
            )


def _request_facts(req: DeviceRequest, macs: list[str]) -> dict:
    return {
        "organization": req.organization.name,
        "spec": req.spec.name if req.spec_id else None,
        "status": req.status,
        "note": req.note,
        "target_macs": list(macs),
    }


def request_set_status(*, request: DeviceRequest, status: str) -> None:
    """Moves a request along its lifecycle, keeping its MACs' `open` mirror in step."""
    request.status = status
    request.save(update_fields=["status", "updated_at"])
    RequestMac.objects.filter(request=request).update(open=status in OPEN_REQUEST_STATUSES)


def request_targets(req: DeviceRequest) -> list[str]:
    return sorted(req.macs.values_list("mac", flat=True))
