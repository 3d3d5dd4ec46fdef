"""Reads shared by the admin API and the portal, so that both show the same thing."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from inventory.errors import NotFound
from inventory.models import (
    BootEvent,
    Device,
    DeviceMac,
    DeviceRequest,
    Organization,
    Submission,
)
from inventory.services.macs import InvalidMac, normalize_mac


def visible_organizations(user) -> QuerySet[Organization] | None:
    """None for staff (everything); otherwise the organizations the user belongs to."""
    if user.is_staff or user.is_superuser:
        return None
    return Organization.objects.filter(memberships__user=user)


def device_queryset(user=None) -> QuerySet[Device]:
    qs = Device.objects.all()
    if user is not None:
        orgs = visible_organizations(user)
        if orgs is not None:
            qs = qs.filter(organization__in=orgs)
    return qs


def request_queryset(user=None) -> QuerySet[DeviceRequest]:
    qs = DeviceRequest.objects.all()
    if user is not None:
        orgs = visible_organizations(user)
        if orgs is not None:
            qs = qs.filter(organization__in=orgs)
    return qs


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


def device_list(
    *,
    user=None,
    q: str | None = None,
    mac: str | None = None,
    serial: str | None = None,
    name: str | None = None,
    organization: str | None = None,
    inventory_status: str | None = None,
    imaging_status: str | None = None,
    has_modem: bool | None = None,
) -> QuerySet[Device]:
    qs = device_queryset(user)
    if q:
        qs = qs.filter(device_search_q(q))
    if mac:
        qs = qs.filter(macs__mac=normalize_mac(mac, field="mac"))
    if serial:
        qs = qs.filter(serial_number__iexact=serial.strip())
    if name:
        qs = qs.filter(name__icontains=name.strip())
    if organization:
        qs = qs.filter(Q(organization__name=organization) | Q(organization__slug=organization))
    if inventory_status:
        qs = qs.filter(inventory_status=inventory_status)
    if imaging_status:
        qs = qs.filter(imaging_status=imaging_status)
    if has_modem is not None:
        qs = qs.filter(has_modem=has_modem)
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
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise NotFound("unknown_device", f"no device {device_id!r}", field="device_id")
    return device


def device_history(device: Device):
    return device.history.select_related("actor", "submission").order_by("-created_at", "-id")


def device_submissions(device: Device) -> QuerySet[Submission]:
    return device.submissions.order_by("-received_at", "-id")


def boot_events(*, user=None, mac: str | None = None) -> QuerySet[BootEvent]:
    """Boot requests, newest first. Organization members see only their devices' boots."""
    qs = BootEvent.objects.all()
    if user is not None and visible_organizations(user) is not None:
        qs = qs.filter(device__in=device_queryset(user))
    if mac:
        qs = qs.filter(mac=normalize_mac(mac, field="mac"))
    return qs.order_by("-at", "-id")
