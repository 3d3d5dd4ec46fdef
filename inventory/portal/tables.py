"""django-tables2 tables of the portal: columns, links, badges and sorting of each list."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from inventory.models import (
    AuditEntry,
    BootEvent,
    Device,
    DeviceRequest,
    DeviceSpec,
    Organization,
    Submission,
)
from inventory.portal.badges import badge

TABLE_ATTRS = {"class": "table table-sm table-hover align-middle mb-0"}


def _mac_lines(macs) -> str:
    return (
        format_html_join(
            "", '<span class="d-block font-monospace small">{}</span>', ((m,) for m in macs)
        )
        or "—"
    )


class DeviceTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {"class": "form-check-input", "data-select-all": "device_ids"},
            "td__input": {"class": "form-check-input", "name": "device_ids"},
            "th": {"class": "col-select"},
        },
    )
    id = tables.Column(
        verbose_name="Device",
        linkify=("portal:device_detail", {"device_id": tables.A("pk")}),
        attrs={"td": {"class": "font-monospace text-nowrap"}},
    )
    name = tables.Column()
    serial_number = tables.Column(verbose_name="Serial", attrs={"td": {"class": "font-monospace"}})
    macs = tables.Column(verbose_name="MACs", empty_values=(), orderable=False)
    spec = tables.Column(order_by=("spec__name",), empty_values=())
    organization = tables.Column(order_by=("organization__name",))
    inventory_status = tables.Column(verbose_name="Inventory")
    imaging_status = tables.Column(verbose_name="Imaging")
    has_modem = tables.BooleanColumn(verbose_name="Modem", yesno="✓,")
    updated_at = tables.DateTimeColumn(verbose_name="Updated", format="Y-m-d H:i")

    class Meta:
        model = Device
        fields = ()
        sequence = (
            "select",
            "id",
            "name",
            "serial_number",
            "macs",
            "spec",
            "organization",
            "inventory_status",
            "imaging_status",
            "has_modem",
            "updated_at",
        )
        attrs = TABLE_ATTRS
        order_by_field = "sort"
        empty_text = "No device matches."
        row_attrs = {"data-device": lambda record: record.pk}

    def render_macs(self, record):
        macs = [m for m in record.macs.all() if not m.shared]
        return (
            format_html_join(
                "", '<span class="d-block font-monospace small">{}</span>', ((m.mac,) for m in macs)
            )
            or "—"
        )

    def render_spec(self, record):
        if record.spec_id and record.fails_spec:
            reasons = "; ".join(m.get("message", "") for m in record.spec_mismatches or [])
            return format_html(
                '{} <span class="badge bg-danger-subtle text-danger-emphasis border '
                'border-danger-subtle" title="{}" data-testid="fails-spec">fails</span>',
                record.spec.name,
                reasons,
            )
        if record.spec_id:
            return record.spec.name
        return format_html('<span class="text-body-secondary">{}</span>', "no match")

    # For a field with choices, django-tables2 passes the label as `value`: badges need the
    # stored value, so they read it from the record.
    def render_inventory_status(self, record):
        return badge(record.inventory_status)

    def render_imaging_status(self, record):
        return badge(record.imaging_status)


class RequestTable(tables.Table):
    id = tables.Column(
        verbose_name="Request", linkify=("portal:request_detail", {"request_id": tables.A("pk")})
    )
    organization = tables.Column(order_by=("organization__name",))
    spec = tables.Column(order_by=("spec__name",), default="(any)")
    status = tables.Column()
    macs = tables.Column(verbose_name="Target MACs", empty_values=(), orderable=False)
    device_count = tables.Column(verbose_name="Devices")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i")

    class Meta:
        model = DeviceRequest
        fields = ()
        sequence = ("id", "organization", "spec", "status", "macs", "device_count", "created_at")
        attrs = TABLE_ATTRS
        order_by_field = "sort"
        empty_text = "No device request."

    def render_id(self, value):
        return f"#{value}"

    def render_status(self, record):
        return badge(record.status)

    def render_macs(self, record):
        return format_html_join(
            "",
            '<span class="d-block font-monospace small">{}</span>',
            ((m.mac,) for m in record.macs.all()),
        )


class OrganizationTable(tables.Table):
    name = tables.Column(linkify=("portal:organization_edit", {"org_id": tables.A("pk")}))
    slug = tables.Column()
    device_count = tables.Column(verbose_name="Devices")
    request_count = tables.Column(verbose_name="Requests")
    imaging_url = tables.Column(verbose_name="Imaging URL", default="(global)")

    class Meta:
        model = Organization
        fields = ()
        sequence = ("name", "slug", "device_count", "request_count", "imaging_url")
        attrs = TABLE_ATTRS
        order_by_field = "sort"


class SpecTable(tables.Table):
    name = tables.Column(linkify=("portal:spec_detail", {"spec_id": tables.A("pk")}))
    name_patterns = tables.Column(verbose_name="Name patterns", orderable=False, empty_values=())
    capabilities = tables.Column(orderable=False, empty_values=())
    device_count = tables.Column(verbose_name="Devices")

    class Meta:
        model = DeviceSpec
        fields = ()
        sequence = ("name", "name_patterns", "capabilities", "device_count")
        attrs = TABLE_ATTRS
        order_by_field = "sort"

    def render_name_patterns(self, value):
        return format_html_join(" ", "<code>{}</code>", ((p,) for p in value or [])) or "—"

    def render_capabilities(self, value):
        return ", ".join(f"{k}: {v}" for k, v in (value or {}).items()) or "—"


class SubmissionTable(tables.Table):
    id = tables.Column(
        verbose_name="#", linkify=("portal:submission_detail", {"submission_id": tables.A("pk")})
    )
    received_at = tables.DateTimeColumn(
        verbose_name="Received", format="Y-m-d H:i:s", attrs={"td": {"class": "text-nowrap"}}
    )
    outcome = tables.Column()
    remote_addr = tables.Column(verbose_name="From", default="—")
    error = tables.Column(verbose_name="Error", orderable=False, empty_values=())
    device = tables.Column(
        linkify=lambda record: (
            reverse("portal:device_detail", args=[record.device_id]) if record.device_id else None
        ),
        default="—",
    )

    class Meta:
        model = Submission
        fields = ()
        sequence = ("id", "received_at", "outcome", "remote_addr", "error", "device")
        attrs = TABLE_ATTRS
        order_by_field = "sort"
        empty_text = "Nothing in the journal with these outcomes."

    def render_outcome(self, record):
        return badge(record.outcome)

    def render_device(self, record):
        return record.device_id

    def render_error(self, record):
        error = record.error or {}
        if not isinstance(error, dict) or not error.get("detail"):
            return "—"
        return format_html(
            '<code class="me-1">{}</code><span class="small">{}</span>',
            error.get("code", ""),
            str(error["detail"])[:200],
        )


class AuditTable(tables.Table):
    created_at = tables.DateTimeColumn(verbose_name="When", format="Y-m-d H:i:s")
    actor = tables.Column(verbose_name="Who", default="(system)")
    object_type = tables.Column(verbose_name="Type")
    object_repr = tables.Column(verbose_name="Object", empty_values=())
    action = tables.Column()
    changes = tables.TemplateColumn(
        template_code='{% include "portal/_changes.html" with changes=value %}', orderable=False
    )

    class Meta:
        model = AuditEntry
        fields = ()
        sequence = ("created_at", "actor", "object_type", "object_repr", "action", "changes")
        attrs = TABLE_ATTRS
        order_by_field = "sort"
        empty_text = "No change recorded yet."

    def render_object_repr(self, record):
        routes = {
            "organization": ("portal:organization_edit", "org_id"),
            "spec": ("portal:spec_detail", "spec_id"),
            "request": ("portal:request_detail", "request_id"),
            "submission": ("portal:submission_detail", "submission_id"),
        }
        route = routes.get(record.object_type)
        if route is None or not record.object_id.isdigit():
            return record.object_repr
        url = reverse(route[0], kwargs={route[1]: int(record.object_id)})
        return format_html('<a href="{}">{}</a>', url, record.object_repr)


class BootEventTable(tables.Table):
    """Who asked the boot endpoint, and what each was told (unknown MACs included)."""

    at = tables.DateTimeColumn(verbose_name="When", format="Y-m-d H:i:s")
    mac = tables.Column(verbose_name="MAC", attrs={"td": {"class": "font-monospace"}})
    step = tables.Column(verbose_name="Step")
    action = tables.Column(verbose_name="Answer")
    reason = tables.Column(orderable=False)
    device = tables.Column(verbose_name="Device", empty_values=(), orderable=False)
    remote_addr = tables.Column(verbose_name="From")

    class Meta:
        model = BootEvent
        fields = ()
        sequence = ("at", "mac", "step", "action", "reason", "device", "remote_addr")
        attrs = TABLE_ATTRS
        order_by_field = "sort"
        empty_text = "No device has asked the boot endpoint yet."

    def render_device(self, record):
        if record.device_id is None:
            return format_html('<span class="text-body-secondary">{}</span>', "unknown")
        url = reverse("portal:device_detail", kwargs={"device_id": record.device_id})
        return format_html('<a class="font-monospace" href="{}">{}</a>', url, record.device_id)
