"""The boot path: what the iPXE endpoint tells a device, per-boot tokens, imaging reports.

Uses the same decision as check-mac (services/boot.py); adds what only a booting device needs:
a credential for the inventory image, the imaging target, and the record of who booted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.authz import CHANGE, restrict
from inventory.choices import (
    BootStep,
    HistoryKind,
    ImagingStatus,
    RequestStatus,
    WebhookEventType,
)
from inventory.errors import Forbidden, NotFound, ValidationFailed
from inventory.models import BootToken, Device, DeviceMac, DeviceRequest
from inventory.services.boot import BootAction, boot_state, decide_boot
from inventory.services.catalog import request_set_status
from inventory.services.history import history_add
from inventory.services.macs import normalize_mac
from inventory.services.text import lookup_key
from inventory.services.timeline import timeline_imaging_report, timeline_record
from inventory.services.webhooks import emit_device_event, emit_request_fulfilled

log = logging.getLogger(__name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).hexdigest()


def _derive(nonce: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"arrow-boot-token:{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def _live_token(mac: str, now) -> str | None:
    """The token of *mac*'s unused, unexpired row, if its derivation still holds."""
    row = BootToken.objects.filter(mac=mac, used_at__isnull=True, expires_at__gt=now).first()
    if row is None:
        return None
    token = _derive(row.nonce)
    if row.nonce and hmac.compare_digest(_hash(token), row.token_hash):
        return token
    row.delete()  # made before SECRET_KEY changed: cannot be handed out again
    return None


# The inventory image's own kernel arguments. cryptomgr.notests skips the kernel's self-tests of
# its crypto algorithms at boot: 2 to 3 s under QEMU's emulation, and the ramdisk uses kernel
# crypto only to check module signatures (docs/decisions.md).
IMAGE_KERNEL_ARGS = "quiet cryptomgr.notests"


def inventory_kernel_args(server: str, token: str, mac: str) -> str:
    """The inventory image's kernel command line: how the agent finds the backend, its per-boot
    token and the booting NIC (docs/agent.md), after the operator's ARROW_KERNEL_ARGS."""
    words = [
        settings.ARROW_KERNEL_ARGS,
        f"arrow.server={server}",
        f"arrow.token={token}",
        f"arrow.mac={mac}",
        IMAGE_KERNEL_ARGS,
    ]
    return " ".join(w for w in words if w)


def boot_token_issue(*, mac: str, remote_addr: str | None = None) -> str:
    """The token for one inventory run of the device with *mac*: the live one while it lasts
    (a device that boots again, or a flood of boot requests, adds no row), else a new one.
    Expired tokens are pruned here. Only the token's hash and a nonce are stored."""
    now = timezone.now()
    BootToken.objects.filter(expires_at__lte=now).delete()
    token = _live_token(mac, now)
    if token is not None:
        return token
    nonce = secrets.token_urlsafe(24)
    token = _derive(nonce)
    try:
        with transaction.atomic():
            BootToken.objects.create(
                mac=mac,
                token_hash=_hash(token),
                nonce=nonce,
                expires_at=now + timedelta(seconds=settings.ARROW_BOOT_TOKEN_TTL),
                remote_addr=remote_addr,
            )
    except IntegrityError:
        # The same MAC booted at the same instant in another worker: use its token.
        return _live_token(mac, now) or token
    return token


def boot_token_check(token: str | None) -> BootToken | None:
    """The live (unexpired, unused) token row for *token*, or None."""
    if not token:
        return None
    return BootToken.objects.filter(
        token_hash=_hash(token), used_at__isnull=True, expires_at__gt=timezone.now()
    ).first()


def progress_key(token: str) -> str:
    """The key the boot script shows /pxe/progress: derived from the per-boot token, so only the
    device that holds the token has it, but not the token itself (a progress URL may end up in
    an access log; the key it carries can report progress and nothing else)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"arrow-progress:{token}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def boot_progress_check(*, mac: str, key: str) -> bool:
    """Is *key* the progress key of *mac*'s live per-boot token? (constant time)"""
    token = _live_token(mac, timezone.now())
    if token is None or not key:
        return False
    return hmac.compare_digest(progress_key(token).encode(), key.encode(errors="replace"))


def boot_token_consume(token_id: int) -> None:
    """Marks the token used inside the caller's transaction; refuses a token already used."""
    used = BootToken.objects.filter(pk=token_id, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not used:
        raise Forbidden(
            "token_used", "this inventory token was already used", field="X-Inventory-Token"
        )


def _fill(template: str, *, mac: str, device_id: str) -> str:
    return (
        template.replace("{mac}", mac)
        .replace("{mac_hyphen}", mac.replace(":", "-"))
        .replace("{device_id}", device_id)
    )


def imaging_target(device: Device) -> str | None:
    """The device's spec's imaging URL, else its organization's, else the global default."""
    for template in (
        device.spec.imaging_url if device.spec_id else "",
        device.organization.imaging_url if device.organization_id else "",
        settings.ARROW_IMAGING_URL,
    ):
        if template:
            return template
    return None


@dataclass(frozen=True)
class PxeAnswer:
    action: BootAction
    reason: str
    mac: str
    device_id: str | None = None
    organization: str | None = None
    token: str | None = None
    chain_url: str | None = None


@transaction.atomic
def pxe_boot(*, mac_text: object, remote_addr: str | None = None) -> PxeAnswer:
    """Decides what a booting device does and records it (token, imaging status, boot event)."""
    mac = normalize_mac(mac_text, field="mac")
    decision = decide_boot(boot_state(mac))
    action, reason = decision.action, decision.reason
    token = chain_url = None
    if action is BootAction.INVENTORY:
        token = boot_token_issue(mac=mac, remote_addr=remote_addr)
    elif action is BootAction.IMAGING:
        device = (
            Device.objects.select_for_update(of=("self",))
            .select_related("spec", "organization", "request")
            .get(pk=decision.device_id)
        )
        template = imaging_target(device)
        if template is None:
            action = BootAction.LOCAL
            reason = "ready for imaging, but no imaging target is configured"
        else:
            chain_url = _fill(template, mac=mac, device_id=device.pk)
            if device.imaging_status != ImagingStatus.IMAGING:
                _device_to_imaging(device)
    unknown = decision.device_id is None and decision.organization is None
    log.log(
        logging.WARNING if unknown else logging.INFO,
        "boot %s MAC %s from %s: %s (%s)",
        "from unknown" if unknown else "of",
        mac,
        remote_addr,
        action,
        reason,
    )
    timeline_record(
        step=BootStep.IMAGING if chain_url else BootStep.BOOT,
        mac=mac,
        action=action,
        reason=reason,
        device_id=decision.device_id,
        remote_addr=remote_addr,
        detail={"chain_url": chain_url} if chain_url else None,
    )
    return PxeAnswer(
        action, reason, mac, decision.device_id, decision.organization, token, chain_url
    )


def _device_to_imaging(device: Device) -> None:
    old = device.imaging_status
    device.imaging_status = ImagingStatus.IMAGING
    device.imaging_error = ""
    device.save(update_fields=["imaging_status", "imaging_error", "updated_at"])
    if device.request_id and device.request.status in (
        RequestStatus.PENDING,
        RequestStatus.INVENTORIED,
    ):
        request_set_status(request=device.request, status=RequestStatus.IMAGING)
    history_add(
        device=device,
        kind=HistoryKind.IMAGING,
        changes={"imaging_status": [old, ImagingStatus.IMAGING]},
        note="handed to the imaging target by the boot endpoint",
    )
    emit_device_event(WebhookEventType.DEVICE_SENT_TO_IMAGING, device)


def _device_for_report(device_id: object, mac_address: object) -> Device:
    qs = Device.objects.select_for_update(of=("self",)).select_related("request")
    if device_id:
        device = qs.filter(pk=str(device_id)).first()
        if device is None:
            raise NotFound("unknown_device", f"no device {device_id!r}", field="device_id")
        return device
    if mac_address:
        mac = normalize_mac(mac_address, field="mac_address")
        owner = DeviceMac.objects.filter(mac=mac, shared=False).values_list("device_id", flat=True)
        device = qs.filter(pk__in=list(owner)).first()
        if device is None:
            raise NotFound("unknown_device", f"no device with MAC {mac}", field="mac_address")
        return device
    raise ValidationFailed(
        [{"field": "device_id", "code": "required", "message": "give device_id or mac_address"}]
    )


@transaction.atomic
def device_imaging_report(
    *, status: object, device_id: object = None, mac_address: object = None, reason: str = ""
) -> Device:
    """The imaging system reports a device imaged (its request is fulfilled) or failed."""
    if status not in (ImagingStatus.IMAGED, ImagingStatus.FAILED):
        raise ValidationFailed(
            [
                {
                    "field": "status",
                    "code": "invalid_status",
                    "message": f"{str(status)[:40]!r} is not one of imaged, failed",
                }
            ]
        )
    device = _device_for_report(device_id, mac_address)
    old = device.imaging_status
    device.imaging_status = status
    device.imaging_error = (reason or "")[:2000] if status == ImagingStatus.FAILED else ""
    device.save(update_fields=["imaging_status", "imaging_error", "updated_at"])
    fulfilled = None
    if status == ImagingStatus.IMAGED and device.request_id:
        request: DeviceRequest = device.request
        if request.status not in (RequestStatus.CANCELLED, RequestStatus.FULFILLED):
            request_set_status(request=request, status=RequestStatus.FULFILLED)
            fulfilled = request
    history_add(
        device=device,
        kind=HistoryKind.IMAGING,
        changes={"imaging_status": [old, status]},
        note=f"reported by the imaging system{': ' + reason if reason else ''}"[:2000],
    )
    timeline_imaging_report(device=device, status=status, reason=reason or "")
    imaged = status == ImagingStatus.IMAGED
    event = WebhookEventType.DEVICE_IMAGED if imaged else WebhookEventType.DEVICE_IMAGING_FAILED
    emit_device_event(event, device, reason=(reason or "")[:2000])
    if fulfilled is not None:
        emit_request_fulfilled(fulfilled, device)
    return device


@transaction.atomic
def device_imaging_requeue(*, device_id: str, actor=None) -> Device:
    """An operator sends a device (failed, or imaged and to be redone) back to imaging."""
    device = (
        restrict(Device.objects.all(), actor, CHANGE)
        .select_for_update(of=("self",))
        .filter(pk=lookup_key(device_id, field="device_id"))
        .first()
    )
    if device is None:
        raise NotFound("unknown_device", f"no device {device_id!r}", field="device_id")
    old = device.imaging_status
    device.imaging_status = ImagingStatus.READY_FOR_IMAGING
    device.imaging_error = ""
    device.save(update_fields=["imaging_status", "imaging_error", "updated_at"])
    history_add(
        device=device,
        kind=HistoryKind.IMAGING,
        changes={"imaging_status": [old, ImagingStatus.READY_FOR_IMAGING]},
        note="sent back to imaging by an operator",
        actor=actor,
    )
    return device
