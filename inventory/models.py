"""The inventory domain's tables. Constraints here are the last line of defence: a MAC is stored
once, canonical, and at most one open device request targets it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.choices import (
    AuditAction,
    BootStep,
    DeliveryState,
    HistoryKind,
    ImagingStatus,
    InventoryStatus,
    RequestStatus,
    SerialState,
    SnSource,
    SubmissionOutcome,
    WebhookEventType,
)

CANONICAL_MAC_REGEX = r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$"


def new_device_id() -> str:
    """A short random id an operator can read out over the phone: ``dev-3f9a1c22b0``."""
    return f"dev-{secrets.token_hex(5)}"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    # iPXE URL template of the imaging target for this organization's devices (blank: global).
    imaging_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceSpec(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Case-insensitive glob patterns that a reported spec name may match, e.g. "*NUC11TN*".
    name_patterns = models.JSONField(default=list, blank=True)
    # Free-form facts (cpu, ram_gb, ...) used later to pick VM templates.
    capabilities = models.JSONField(default=dict, blank=True)
    imaging_url = models.CharField(max_length=500, blank=True)
    # What its devices must have (services/speccheck.py): cpu_pattern, min_cores,
    # min_memory_gib, min_disks, min_disk_gb, min_nics, modem. Empty: nothing is checked.
    requirements = models.JSONField(default=dict, blank=True)
    # A device that fails the requirements is flagged but still sent to imaging.
    image_anyway = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceRequest(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="requests"
    )
    spec = models.ForeignKey(
        DeviceSpec, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING, db_index=True
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Request #{self.pk} ({self.organization})"


class RequestMac(models.Model):
    """A MAC a device request waits for. `open` mirrors the request's status so that the database
    can promise that one MAC is the target of at most one open request."""

    request = models.ForeignKey(DeviceRequest, on_delete=models.CASCADE, related_name="macs")
    mac = models.CharField(max_length=17)
    open = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mac"], condition=Q(open=True), name="inventory_requestmac_unique_open_mac"
            ),
            models.UniqueConstraint(
                fields=["request", "mac"], name="inventory_requestmac_unique_request_mac"
            ),
            models.CheckConstraint(
                condition=Q(mac__regex=CANONICAL_MAC_REGEX),
                name="inventory_requestmac_canonical_mac",
            ),
        ]

    def __str__(self) -> str:
        return self.mac


class Device(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_device_id, editable=False)
    name = models.CharField(max_length=200, blank=True)
    serial_number = models.CharField(max_length=200, null=True, blank=True, db_index=True)  # noqa: DJ001 - null means "no serial", as the API says
    hardware_generated_sn = models.BooleanField(default=False)
    sn_source = models.CharField(max_length=20, choices=SnSource.choices, null=True, blank=True)  # noqa: DJ001 - null: no source
    spec = models.ForeignKey(
        DeviceSpec, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    reported_spec = models.CharField(max_length=300, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    request = models.ForeignKey(
        DeviceRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    has_modem = models.BooleanField(default=False)
    imei = models.CharField(max_length=15, null=True, blank=True)  # noqa: DJ001 - null: no IMEI
    warnings = models.JSONField(default=list, blank=True)
    inventory_status = models.CharField(
        max_length=30, choices=InventoryStatus.choices, db_index=True
    )
    imaging_status = models.CharField(
        max_length=30,
        choices=ImagingStatus.choices,
        default=ImagingStatus.AWAITING_INVENTORY,
        db_index=True,
    )
    imaging_error = models.TextField(blank=True)
    flagged_for_inventory = models.BooleanField(default=False)
    # The latest inventory's hardware fails its spec's requirements: [{fact, message}].
    fails_spec = models.BooleanField(default=False, db_index=True)
    spec_mismatches = models.JSONField(default=list, blank=True)
    hardware = models.JSONField(default=dict, blank=True)
    # Fields an operator set by hand (name, spec, organization); inventory leaves them alone.
    locked_fields = models.JSONField(default=list, blank=True)
    inventoried_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]

    def __str__(self) -> str:
        return self.name or self.id


class DeviceMac(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="macs")
    mac = models.CharField(max_length=17)
    interface = models.CharField(max_length=64, blank=True)
    # Shared MACs (BMC USB NICs, modems with one fixed address) are kept for reference only.
    shared = models.BooleanField(default=False)

    class Meta:
        ordering = ["interface", "mac"]
        constraints = [
            models.UniqueConstraint(
                fields=["mac"], condition=Q(shared=False), name="inventory_devicemac_unique_mac"
            ),
            models.UniqueConstraint(
                fields=["device", "mac"], name="inventory_devicemac_unique_device_mac"
            ),
            models.CheckConstraint(
                condition=Q(mac__regex=CANONICAL_MAC_REGEX),
                name="inventory_devicemac_canonical_mac",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.interface}:{self.mac}" if self.interface else self.mac


class Submission(models.Model):
    """The journal: every body that reached /api/inventory/submit, byte for byte, and its fate."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=dict)  # credentials removed before storing
    body = models.BinaryField()
    credential = models.CharField(max_length=20, blank=True)  # "service_key" or "boot_token"
    outcome = models.CharField(
        max_length=20,
        choices=SubmissionOutcome.choices,
        default=SubmissionOutcome.RECEIVED,
        db_index=True,
    )
    error = models.JSONField(null=True, blank=True)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    # For a conflict: the device the MACs point to and the one the serial points to.
    conflict_device_ids = models.JSONField(default=list, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Submission #{self.pk} ({self.outcome})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class DeviceHistory(models.Model):
    """What changed on a device, when, why and by whom (inventory, operator, imaging system)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=20, choices=HistoryKind.choices)
    changes = models.JSONField(default=dict, blank=True)  # {field: [old, new]}
    note = models.TextField(blank=True)
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="history"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "device history"

    def __str__(self) -> str:
        return f"{self.device_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A per-user admin API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.name}".strip()


class OrganizationMembership(models.Model):
    """A non-staff user sees and changes only the devices and requests of their organizations."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    # An organization's admin also manages its webhook subscriptions.
    is_admin = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="inventory_membership_unique_user_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class BootToken(models.Model):
    """A per-boot inventory credential handed to one device by the boot endpoint.

    Bound to the MAC that booted, short-lived, valid for one accepted submission. Only its hash is
    stored, so a database dump does not hand out working tokens.
    """

    mac = models.CharField(max_length=17, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # The token is derived from this and SECRET_KEY, so that a device booting again within the
    # token's life gets the same one (one live token per MAC) while a dump alone yields none.
    nonce = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mac"],
                condition=Q(used_at__isnull=True),
                name="inventory_boottoken_one_unused_per_mac",
            )
        ]

    def __str__(self) -> str:
        return f"token for {self.mac}"


class BootEvent(models.Model):
    """One step of a device's onboarding, as the product saw it: every boot request the iPXE
    endpoint answered (step "boot": who tried to boot, and what they were told), the progress
    the boot script and the agent report, the submission's outcome and the imaging report."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    mac = models.CharField(max_length=17, db_index=True)
    step = models.CharField(max_length=20, choices=BootStep.choices, default=BootStep.BOOT)
    action = models.CharField(max_length=20, blank=True)  # of a boot: inventory, imaging, local
    reason = models.CharField(max_length=300, blank=True)
    # Step facts: {"outcome": "accepted"}, {"collector": "dmi", "stage": "run", ...}
    detail = models.JSONField(default=dict, blank=True)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="boot_events"
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # "The latest step of each device / MAC": one index scan per key.
            models.Index(fields=["device", "-at", "-id"], name="inventory_bootevent_device_at"),
            models.Index(fields=["mac", "-at", "-id"], name="inventory_bootevent_mac_at"),
        ]

    def __str__(self) -> str:
        return f"{self.mac} {self.step} {self.action}".strip()


class AuditEntry(models.Model):
    """Who changed an organization, a device spec, a device request or a journal row, when, and
    what changed. Device changes live in DeviceHistory, which carries the actor too."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    object_type = models.CharField(max_length=40)  # organization, spec, request, submission
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True)  # {field: [old, new]}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="inventory_audit_object_idx")
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.action}"


class SerialSighting(models.Model):
    """One MAC set a serial was reported with: the MACs of a submission that are not shared,
    sorted and comma-joined, so that one machine reporting its NICs in any order is one row."""

    serial = models.CharField(max_length=200)
    mac_set = models.TextField()  # "02:00:00:00:00:01,02:00:00:00:00:02"
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    # The device the set was last applied to (its organization scopes who may see the row).
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="serial_sightings"
    )
    # When this set reached an existing device through the serial alone and replaced that
    # device's MACs: the submission that did it and the MACs it replaced ("iface:mac").
    merge_submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_macs = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["serial", "first_seen", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["serial", "mac_set"], name="inventory_serialsighting_unique_serial_mac_set"
            )
        ]

    def __str__(self) -> str:
        return f"{self.serial} with {self.mac_set}"

    @property
    def macs(self) -> list[str]:
        return self.mac_set.split(",") if self.mac_set else []


class SuspectSerial(models.Model):
    """A serial the rule found reported by several machines, and what staff decided."""

    serial = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=20, choices=SerialState.choices, db_index=True)
    # Machines (MAC sets sharing no MAC) seen when the state was last set.
    machines = models.PositiveIntegerField()
    detected_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.serial} ({self.state})"


class WebhookSubscription(models.Model):
    """Where an organization's events are POSTed, and which. The secret signs each delivery; it
    has to be kept readable for that, and is shown to a person only once, at creation."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )  # None: the events of every organization (staff only)
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=200)
    event_types = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Webhook #{self.pk} {self.url}"


class WebhookEvent(models.Model):
    """The outbox: one row per event, written in the transaction of the change it reports, with
    the body exactly as every delivery sends it."""

    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    # Events of one key (a device, or a MAC not yet a device) are delivered in order.
    ordering_key = models.CharField(max_length=80)
    # Events found by a scan rather than caused by a change (stuck): written once per cause.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class WebhookDelivery(models.Model):
    """One event to one subscription: its state, and when the worker tries it next."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    ordering_key = models.CharField(max_length=80)  # the event's, so that one index answers
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)  # since it was (re)queued
    queued_at = models.DateTimeField()  # the maximum age counts from here
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker is sending it
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="inventory_webhookdelivery_unique_sub_event"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="inventory_delivery_due"),
            models.Index(
                fields=["subscription", "ordering_key", "state", "event"],
                name="inventory_delivery_order",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of {self.event_id} ({self.state})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP try."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=20)  # AttemptOutcome
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
