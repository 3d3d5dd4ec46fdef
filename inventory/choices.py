"""Every status and source value of the inventory domain, spelled exactly once."""

from django.db import models


class InventoryStatus(models.TextChoices):
    NEWLY_INVENTORIED = "newly_inventoried", "Newly inventoried"
    UPDATED_VIA_INVENTORY = "updated_via_inventory", "Updated via inventory"
    MANUALLY_ADDED = "manually_added", "Manually added"
    PROCESSED = "processed", "Processed"
    ASSIGNED = "assigned", "Assigned"
    REVIEWED = "reviewed", "Reviewed"


# The statuses an operator (or update-status) may set; the others are set by the system.
ADMIN_STATUSES = (InventoryStatus.PROCESSED, InventoryStatus.ASSIGNED, InventoryStatus.REVIEWED)


class ImagingStatus(models.TextChoices):
    AWAITING_INVENTORY = "awaiting_inventory", "Awaiting inventory"
    READY_FOR_IMAGING = "ready_for_imaging", "Ready for imaging"
    IMAGING = "imaging", "Imaging"
    IMAGED = "imaged", "Imaged"
    FAILED = "failed", "Imaging failed"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    INVENTORIED = "inventoried", "Inventoried"
    IMAGING = "imaging", "Imaging"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"


OPEN_REQUEST_STATUSES = (RequestStatus.PENDING, RequestStatus.INVENTORIED, RequestStatus.IMAGING)


class SnSource(models.TextChoices):
    DMIDECODE = "dmidecode", "DMI/SMBIOS system serial"
    BIOS = "bios", "Base board serial (BIOS)"
    CHASSIS = "chassis", "Chassis serial"
    MANUAL = "manual", "Entered by hand"


# sn_source values a device may report; "manual" is only set by an operator.
REPORTED_SN_SOURCES = (SnSource.DMIDECODE, SnSource.BIOS, SnSource.CHASSIS)


class SubmissionOutcome(models.TextChoices):
    RECEIVED = "received", "Received"  # journaled, not yet judged (a crash leaves it visible)
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    CONFLICT = "conflict", "Conflict"
    RESOLVED = "resolved", "Conflict resolved"


class HistoryKind(models.TextChoices):
    INVENTORY = "inventory", "Inventory"
    NO_CHANGE = "no_change", "Inventory, no change"
    MANUAL = "manual", "Manual change"
    STATUS = "status", "Status change"
    IMAGING = "imaging", "Imaging"
    CREATED = "created", "Created"
    CONFLICT = "conflict", "Conflict raised"


class AuditAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DELETED = "deleted", "Deleted"
    RESOLVED = "resolved", "Resolved"


class BootStep(models.TextChoices):
    """The steps of one onboarding, in the order a device walks them (services/timeline.py)."""

    BOOT = "boot", "Boot script served"
    KERNEL = "kernel", "Kernel fetched"
    INITRD = "initrd", "Initrd fetched"
    AGENT = "agent", "Agent started"
    COLLECT_FAILED = "collect_failed", "Collection step failed"
    SUBMIT = "submit", "Inventory submitted"
    IMAGING = "imaging", "Sent to imaging"
    IMAGED = "imaged", "Imaging reported"


class SerialState(models.TextChoices):
    """A serial that machines with disjoint MAC sets report (services/serials.py)."""

    SUSPECT = "suspect", "Suspect"  # found by the rule; a placeholder until staff decide
    CONFIRMED = "confirmed", "Confirmed placeholder"  # staff agree: it never identifies
    CLEARED = "cleared", "Cleared"  # staff say it is real: it identifies again, for good


# The states in which a serial is a placeholder: it identifies no device.
PLACEHOLDER_SERIAL_STATES = (SerialState.SUSPECT, SerialState.CONFIRMED)


class WebhookEventType(models.TextChoices):
    """What a webhook subscription can hear about (docs/webhooks.md)."""

    DEVICE_INVENTORIED = "device.inventoried", "Device inventoried"
    DEVICE_UPDATED = "device.updated", "Device updated"
    DEVICE_CONFLICT = "device.conflict", "Submission conflict"
    DEVICE_STUCK = "device.stuck", "Device stuck"
    DEVICE_SENT_TO_IMAGING = "device.sent_to_imaging", "Device sent to imaging"
    DEVICE_IMAGED = "device.imaged", "Device imaged"
    DEVICE_IMAGING_FAILED = "device.imaging_failed", "Imaging failed"
    DEVICE_FAILS_SPEC = "device.fails_spec", "Device fails its spec"
    REQUEST_FULFILLED = "request.fulfilled", "Request fulfilled"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # given up after the maximum attempts or age


class AttemptOutcome(models.TextChoices):
    """One try's result: the label of the deliveries counter in /metrics."""

    DELIVERED = "delivered", "Delivered"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Given up"
