"""Delivering the outbox: signing, back-off, and the worker's loop (`manage.py webhook_worker`).

A delivery is claimed in a short transaction (`select_for_update(skip_locked=True)` on
PostgreSQL, so several workers never take the same row) and leased for the HTTP timeout; the POST
happens outside any transaction (on SQLite a write transaction would block every other writer);
the outcome is written in another short transaction. A delivery is due only when no earlier
delivery of the same subscription and ordering key (a device) is still pending: a device's later
event waits until the earlier one was delivered or given up. A worker that dies mid-POST leaves
a lease that runs out, and the delivery is tried again: at least once, never exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from inventory.choices import AttemptOutcome, DeliveryState, WebhookEventType
from inventory.models import WebhookAttempt, WebhookDelivery, WebhookEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Arrow-Signature"
EVENT_ID_HEADER = "X-Arrow-Event-Id"
EVENT_TYPE_HEADER = "X-Arrow-Event-Type"
USER_AGENT = "ARROW-Auto-Inventory-Webhooks/1"
LEASE_MARGIN_S = 30  # beyond the HTTP timeout, before another worker may take the delivery


# --- signing (the receiver's side is in docs/webhooks.md) -----------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>" under the secret, in hex (as Stripe signs)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """What a receiver does: the header's v1 matches (constant time) and its t is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), fields.get("v1", "").encode())


# --- back-off -----------------------------------------------------------------------------------


def backoff_delay(attempt: int, *, base: float, cap: float, rand=random.random) -> float:
    """Seconds to wait after failed try number *attempt* (1, 2, ...): base * 2^(attempt-1),
    at most *cap*, of which a random half is taken off ("equal jitter"), so that receivers
    coming back are not hit by every sender at the same instant."""
    ceiling = min(cap, base * 2 ** min(attempt - 1, 60))
    return ceiling / 2 + rand() * ceiling / 2


def gives_up(delivery: WebhookDelivery, now: datetime) -> bool:
    """After the maximum number of tries, or the maximum age since it was queued."""
    too_old = now - delivery.queued_at >= timedelta(seconds=settings.ARROW_WEBHOOK_MAX_AGE_S)
    return delivery.attempts >= settings.ARROW_WEBHOOK_MAX_ATTEMPTS or too_old


# --- claiming -----------------------------------------------------------------------------------


def _due(now: datetime):
    earlier_pending = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        ordering_key=OuterRef("ordering_key"),
        state=DeliveryState.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    return (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .filter(subscription__active=True)  # a paused subscription's deliveries wait
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(~Exists(earlier_pending))
        .order_by("event_id", "pk")
    )


def deliveries_claim(*, limit: int = 20, now: datetime | None = None) -> list[int]:
    """Leases up to *limit* due deliveries, at most one per subscription and key at a time."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.ARROW_WEBHOOK_TIMEOUT_S + LEASE_MARGIN_S)
    with transaction.atomic():
        ids = list(
            _due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(lease_until=lease)
    return ids


# --- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Try:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(client: httpx.Client, delivery: WebhookDelivery) -> Try:
    """One signed POST; never raises (a network error is an outcome like a 500)."""
    body = delivery.event.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(delivery.subscription.secret, int(time.time()), body),
        EVENT_ID_HEADER: delivery.event.event_id,
        EVENT_TYPE_HEADER: delivery.event.type,
    }
    started = time.perf_counter()
    try:
        response = client.post(delivery.subscription.url, content=body, headers=headers)
        status, error = response.status_code, ""
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.HTTPError as exc:
        # The exception's class and text name the failure (timeout, refused); no secret is in it.
        status, error = None, f"{exc.__class__.__name__}: {exc}"[:300]
    return Try(status, error, int((time.perf_counter() - started) * 1000))


def record(delivery_id: int, result: Try, *, now: datetime | None = None) -> str:
    """Writes the try to the log and moves the delivery on; returns the try's outcome."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = result.status_code, result.error
        delivery.lease_until = None
        if result.ok:
            outcome, delivery.state = AttemptOutcome.DELIVERED, DeliveryState.DELIVERED
            delivery.finished_at = now
        elif gives_up(delivery, now):
            outcome, delivery.state = AttemptOutcome.FAILED, DeliveryState.FAILED
            delivery.finished_at = now
        else:
            outcome = AttemptOutcome.RETRY
            wait = backoff_delay(
                delivery.attempts,
                base=settings.ARROW_WEBHOOK_BACKOFF_BASE_S,
                cap=settings.ARROW_WEBHOOK_BACKOFF_MAX_S,
            )
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.save()
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.log.count() + 1,
            outcome=outcome,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
    return outcome


def deliver(client: httpx.Client, delivery_id: int, *, now: datetime | None = None) -> str | None:
    """Sends one claimed delivery and records it; None when it vanished meanwhile (its
    subscription was deleted)."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "subscription").filter(pk=delivery_id)
    ).first()
    if delivery is None:
        return None
    result = post(client, delivery)
    try:
        outcome = record(delivery_id, result, now=now)
    except WebhookDelivery.DoesNotExist:
        return None
    log.info(
        "webhook delivery %s of %s (%s) to subscription %s: %s %s",
        delivery.pk,
        delivery.event.event_id,
        delivery.event.type,
        delivery.subscription_id,
        outcome,
        result.status_code or result.error,
    )
    return outcome


# --- stuck devices ------------------------------------------------------------------------------


def stuck_scan(now: datetime | None = None) -> int:
    """One device.stuck event per stuck step (a device that moves on and sticks again is told
    again); the step's id is the dedupe key, so a second scan or worker writes nothing."""
    from inventory.services.timeline import onboarding_live
    from inventory.services.webhooks import device_summary, webhook_emit

    written = 0
    for row in onboarding_live(user=None, now=now):
        key = f"stuck:{row.event.pk}"
        if row.stuck is None or WebhookEvent.objects.filter(dedupe_key=key).exists():
            continue
        device = row.event.device
        data = {
            "mac": row.event.mac,
            "step": row.event.step,
            "since": row.event.at,
            "hint": row.stuck,
            "device": device_summary(device) if device is not None else None,
        }
        try:
            with transaction.atomic():
                written += bool(
                    webhook_emit(
                        event_type=WebhookEventType.DEVICE_STUCK,
                        organization=device.organization if device else None,
                        ordering_key=device.pk if device else f"mac:{row.event.mac}",
                        device_id=device.pk if device else None,
                        data=data,
                        dedupe_key=key,
                    )
                )
        except IntegrityError:  # another worker wrote it first
            continue
    return written


# --- the loop -----------------------------------------------------------------------------------


def run_once(client: httpx.Client) -> int:
    """Claims what is due and delivers it, one after the other; returns how many were tried."""
    ids = deliveries_claim()
    for delivery_id in ids:
        deliver(client, delivery_id)
    return len(ids)


def worker_loop(*, stop, poll_s: float, stuck_scan_s: float) -> None:
    """Until *stop* (a threading.Event) is set: deliver what is due, sleep *poll_s* when
    nothing was, scan for stuck devices every *stuck_scan_s*."""
    next_scan = 0.0
    timeout = httpx.Timeout(settings.ARROW_WEBHOOK_TIMEOUT_S)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        while not stop.is_set():
            close_old_connections()  # a connection the database dropped is opened again
            try:
                if time.monotonic() >= next_scan:
                    stuck_scan()
                    next_scan = time.monotonic() + stuck_scan_s
                busy = run_once(client)
            except DatabaseError as exc:
                log.error("webhook worker: database unavailable (%s); retrying", type(exc).__name__)
                busy = 0
            if busy == 0:
                stop.wait(poll_s)
