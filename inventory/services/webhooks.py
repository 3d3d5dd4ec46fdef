"""Webhook subscriptions and the outbox: which events exist, who hears them, and how an event is
written, always inside the transaction of the change it reports, so that a change that rolls
back leaves no event and a committed one cannot lose its event. Sending is the worker's
(services/outbox.py); this module knows nothing about HTTP.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from inventory import authz
from inventory.choices import AuditAction, DeliveryState, WebhookEventType
from inventory.errors import NotFound, ValidationFailed
from inventory.models import (
    Device,
    DeviceRequest,
    Organization,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from inventory.services.audit import audit_diff, audit_record
from inventory.services.text import text_problem

MAX_URL = 500
SECRET_MIN, SECRET_MAX = 16, 200


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "code": code, "message": message}])


def check_url(value: object) -> str:
    """An http:// or https:// URL with a host and no credentials in it (they would be shown in
    the portal; the signature is what authenticates the sender)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise _invalid("url", "required", "give the receiver's http:// or https:// URL")
    if len(text) > MAX_URL or text_problem(text) or any(c.isspace() for c in text):
        raise _invalid("url", "invalid_url", f"not a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise _invalid("url", "invalid_url", f"{text[:60]!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise _invalid("url", "invalid_scheme", "only http:// and https:// URLs are delivered to")
    if not host:
        raise _invalid("url", "invalid_url", "the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise _invalid("url", "invalid_url", "put no credentials in the URL")
    return text


def check_event_types(value: object) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise _invalid("event_types", "required", "choose at least one event type")
    for i, item in enumerate(value):
        if item not in WebhookEventType.values:
            raise _invalid(
                f"event_types[{i}]",
                "invalid_choice",
                f"{str(item)[:40]!r} is not one of {', '.join(WebhookEventType.values)}",
            )
    return list(dict.fromkeys(str(v) for v in value))


def _check_secret(value: object) -> str:
    """The caller's secret, or a new random one when none is given."""
    if value in (None, ""):
        return f"whsec_{secrets.token_urlsafe(32)}"
    text = value if isinstance(value, str) else ""
    printable = text.isascii() and text.isprintable() and " " not in text
    if not (SECRET_MIN <= len(text) <= SECRET_MAX and printable):
        raise _invalid(
            "secret",
            "invalid_secret",
            f"a secret is {SECRET_MIN} to {SECRET_MAX} printable ASCII characters, no spaces",
        )
    return text


def _check_description(value: object) -> str:
    text = value if isinstance(value, str) else ""
    if len(text) > 200 or text_problem(text):
        raise _invalid("description", "invalid_text", "at most 200 characters of plain text")
    return text


def _organization(value: object, actor) -> Organization | None:
    """The subscription's organization (None: every organization's events, staff only)."""
    from inventory.services.devices import organization_by_name

    org = None if value in (None, "") else organization_by_name(value)
    authz.require_organization(actor, org, action=authz.MANAGE)
    return org


def _facts(sub: WebhookSubscription) -> dict[str, Any]:
    """What the audit trail keeps of a subscription: never its secret."""
    return {
        "url": sub.url,
        "event_types": list(sub.event_types),
        "organization": sub.organization.name if sub.organization_id else None,
        "active": sub.active,
        "description": sub.description,
    }


@transaction.atomic
def webhook_subscription_create(
    *,
    actor,
    url: object,
    event_types: object,
    organization: object = None,
    secret: object = None,
    description: object = "",
    active: bool = True,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret, which the caller shows once and never again."""
    sub = WebhookSubscription(
        url=check_url(url),
        event_types=check_event_types(event_types),
        secret=_check_secret(secret),
        description=_check_description(description),
        active=bool(active),
        organization=_organization(organization, actor),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    sub.save()
    _audit(actor, sub, AuditAction.CREATED, {}, _facts(sub))
    return sub, sub.secret


def _audit(actor, sub, action, before, after) -> None:
    audit_record(
        actor=actor,
        object_type="webhook",
        object_id=sub.pk,
        object_repr=f"Webhook #{sub.pk} {sub.url}",
        action=action,
        changes=audit_diff(before, after),
    )


def _subscription_to_change(pk: object, actor) -> WebhookSubscription:
    qs = authz.restrict(WebhookSubscription.objects.all(), actor, authz.MANAGE)
    sub = qs.select_for_update(of=("self",)).select_related("organization").filter(pk=pk).first()
    if sub is None:
        raise NotFound("unknown_webhook", f"no webhook subscription {pk!r}", field="id")
    return sub


@transaction.atomic
def webhook_subscription_update(*, actor, pk: int, **fields: Any) -> WebhookSubscription:
    """Changes the URL, event types, description or active flag (not the organization, and not
    the secret: a new secret is a new subscription)."""
    sub = _subscription_to_change(pk, actor)
    before = _facts(sub)
    if "url" in fields:
        sub.url = check_url(fields["url"])
    if "event_types" in fields:
        sub.event_types = check_event_types(fields["event_types"])
    if "description" in fields:
        sub.description = _check_description(fields["description"])
    if "active" in fields:
        sub.active = bool(fields["active"])
    sub.save()
    _audit(actor, sub, AuditAction.UPDATED, before, _facts(sub))
    return sub


@transaction.atomic
def webhook_subscription_delete(*, actor, pk: int) -> None:
    sub = _subscription_to_change(pk, actor)
    _audit(actor, sub, AuditAction.DELETED, _facts(sub), {})
    sub.delete()


@transaction.atomic
def webhook_redeliver(*, actor, delivery_id: int) -> WebhookDelivery:
    """Queues a delivery again, at once, with the same event (same id, same body): a receiver
    that lost it, or that was down past the last retry, gets it again."""
    qs = authz.restrict(WebhookDelivery.objects.all(), actor, authz.MANAGE)
    delivery = qs.select_for_update(of=("self",)).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("unknown_delivery", f"no webhook delivery {delivery_id!r}", field="id")
    now = timezone.now()
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.queued_at = delivery.next_attempt_at = now
    delivery.lease_until = delivery.finished_at = None
    delivery.save()
    return delivery


# --- emitting ----------------------------------------------------------------------------------


def device_summary(device: Device) -> dict[str, Any]:
    """What every device event says about its device."""
    return {
        "id": device.pk,
        "name": device.name,
        "serial_number": device.serial_number,
        "organization": device.organization.slug if device.organization_id else None,
        "spec": device.spec.name if device.spec_id else None,
        "inventory_status": device.inventory_status,
        "imaging_status": device.imaging_status,
        "imaging_error": device.imaging_error,
        "request": device.request_id,
        "macs": sorted(device.macs.filter(shared=False).values_list("mac", flat=True)),
    }


def _listeners(event_type: str, organization_id: int | None) -> list[WebhookSubscription]:
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    subs = WebhookSubscription.objects.filter(scope, active=True).order_by("pk")
    # Few rows; JSON containment is not portable to SQLite, so the types are checked here.
    return [s for s in subs if event_type in (s.event_types or [])]


def webhook_emit(
    *,
    event_type: str,
    organization: Organization | None,
    ordering_key: str,
    data: dict[str, Any],
    device_id: str | None = None,
    dedupe_key: str | None = None,
) -> WebhookEvent | None:
    """Writes the event and one pending delivery per subscription that wants it, in the caller's
    transaction. None when nobody listens (nothing to keep)."""
    if not connection.in_atomic_block:
        raise RuntimeError("webhook_emit belongs inside the transaction of the change")
    listeners = _listeners(event_type, organization.pk if organization else None)
    if not listeners:
        return None
    now = timezone.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {
        "id": event_id,
        "type": event_type,
        "created_at": now.isoformat(),
        "organization": organization.slug if organization else None,
        "data": data,
    }
    event = WebhookEvent.objects.create(
        event_id=event_id,
        type=event_type,
        organization=organization,
        device_id=device_id,
        ordering_key=ordering_key[:80],
        dedupe_key=dedupe_key,
        body=json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")),
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=s,
            event=event,
            ordering_key=event.ordering_key,
            queued_at=now,
            next_attempt_at=now,
        )
        for s in listeners
    )
    return event


def emit_device_event(event_type: str, device: Device, **extra: Any) -> WebhookEvent | None:
    """A device's event, in order with its other events."""
    return webhook_emit(
        event_type=event_type,
        organization=device.organization if device.organization_id else None,
        ordering_key=device.pk,
        device_id=device.pk,
        data={"device": device_summary(device), **extra},
    )


def emit_request_fulfilled(request: DeviceRequest, device: Device | None = None):
    """A request fulfilled; ordered after its device's events when a device fulfilled it."""
    key = device.pk if device is not None else f"request:{request.pk}"
    return webhook_emit(
        event_type=WebhookEventType.REQUEST_FULFILLED,
        organization=request.organization,
        ordering_key=key,
        device_id=device.pk if device is not None else None,
        data={
            "request": {
                "id": request.pk,
                "organization": request.organization.slug,
                "status": request.status,
                "devices": sorted(request.devices.values_list("pk", flat=True)),
            }
        },
    )
