"""The portal's forms: they parse what a person typed; the services decide whether it is valid.

Validation that the domain owns (MAC syntax, a MAC already registered, a name already taken)
stays in the services. A view turns the InventoryError a service raises into a form error with
`add_service_error`, so the portal and the API report the same thing.
"""

from __future__ import annotations

import re

from django import forms

from inventory.choices import ADMIN_STATUSES, RequestStatus, WebhookEventType
from inventory.errors import InventoryError
from inventory.models import DeviceSpec

MAX_CSV_BYTES = 1024 * 1024


class BootstrapForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes and which renders with our template."""

    template_name = "portal/forms/form.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


def add_service_error(form: forms.Form, exc: InventoryError) -> None:
    """Shows a service's error on the field it names (``target_macs[1]`` -> ``target_macs``), or
    on the form as a whole when the form has no such field."""
    field = re.sub(r"\[\d+\]$", "", exc.field or "") or None
    if field not in form.fields and field:
        # "requirements.min_cores": the form's field is the last part.
        field = field.rsplit(".", 1)[-1]
    form.add_error(field if field in form.fields else None, exc.message)


# --- devices -----------------------------------------------------------------------------------


class StringListField(forms.Field):
    """The values of a repeated parameter (checkboxes named ``device_ids``)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        return [str(v) for v in value]


class BulkStatusForm(BootstrapForm):
    device_ids = StringListField(
        error_messages={"required": "Select at least one device in the list."}
    )
    new_status = forms.ChoiceField(
        label="Set inventory status to",
        choices=[(s.value, s.label) for s in ADMIN_STATUSES],
    )


class SerialForm(BootstrapForm):
    serial_number = forms.CharField(
        label="Serial number",
        max_length=200,
        required=False,
        help_text="Typed from the label when the hardware reports none; empty clears it.",
    )


class DeviceEditForm(BootstrapForm):
    name = forms.CharField(max_length=200, required=False)
    spec = forms.ModelChoiceField(
        queryset=DeviceSpec.objects.all(), required=False, empty_label="(no match)"
    )
    organization = forms.ModelChoiceField(queryset=None, required=False, empty_label="(none)")

    def __init__(self, *args, organizations, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        # A member who cleared the organization would lose sight of the device.
        self.fields["organization"].required = not staff
        self.fields["name"].help_text = "Set by hand, a name is kept when the device reports one."


# --- Quick MAC Inventory -----------------------------------------------------------------------


class OrganizationChoiceForm(BootstrapForm):
    organization = forms.ModelChoiceField(
        queryset=None, label="Target organization", empty_label="Choose…"
    )

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()


class QuickAddForm(OrganizationChoiceForm):
    mac_address = forms.CharField(
        label="MAC address",
        max_length=64,
        help_text="Any form: 00-E0-4C-92-F7-A4, 00e0.4c92.f7a4, 00:e0:4c:92:f7:a4",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    field_order = ["mac_address", "organization"]


class QuickAddBulkForm(OrganizationChoiceForm):
    macs = forms.CharField(
        label="MAC addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "one MAC per line"}),
        help_text="One per line, or CSV with the MAC in the first column.",
    )
    csv_file = forms.FileField(label="or a CSV file", required=False)

    def clean_csv_file(self):
        upload = self.cleaned_data.get("csv_file")
        if upload is None:
            return ""
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_CSV_BYTES // 1024} KiB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None

    def clean(self):
        data = super().clean()
        if not (data.get("macs") or "").strip() and not (data.get("csv_file") or "").strip():
            raise forms.ValidationError("Paste MAC addresses or choose a CSV file.")
        return data

    def lines(self) -> str:
        return "\n".join(
            part for part in (self.cleaned_data["macs"], self.cleaned_data["csv_file"]) if part
        )


# --- requests, organizations, specs ------------------------------------------------------------


class RequestForm(BootstrapForm):
    organization = forms.ModelChoiceField(queryset=None, empty_label="Choose…")
    spec = forms.ModelChoiceField(
        queryset=DeviceSpec.objects.all(), required=False, empty_label="(any)"
    )
    target_macs = forms.CharField(
        label="Target MACs",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, any form.",
    )
    status = forms.ChoiceField(choices=RequestStatus.choices, initial=RequestStatus.PENDING)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()


class OrganizationForm(BootstrapForm):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(max_length=100, required=False, help_text="Derived from the name.")
    imaging_url = forms.CharField(
        label="Imaging URL",
        max_length=500,
        required=False,
        help_text="iPXE URL template of this organization's imaging target (blank: global).",
    )


class SpecForm(BootstrapForm):
    name = forms.CharField(max_length=200)
    name_patterns = forms.CharField(
        label="Name patterns",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One glob per line, case-insensitive, e.g. *NUC11TN*",
    )
    capabilities = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text='A JSON object, e.g. {"cores": 4, "ram_gb": 16}',
    )
    imaging_url = forms.CharField(label="Imaging URL", max_length=500, required=False)
    # What its devices must have (services/speccheck.py validates; empty: not checked).
    cpu_pattern = forms.CharField(
        label="CPU model pattern",
        required=False,
        help_text="A regular expression (RE2), case-insensitive, found anywhere in the CPU "
        "model, e.g. i5-1135G7|i7-1165G7",
    )
    min_cores = forms.IntegerField(label="Minimum CPU cores", required=False)
    min_memory_gib = forms.IntegerField(label="Minimum memory (GiB)", required=False)
    min_disks = forms.IntegerField(label="Minimum disks", required=False)
    min_disk_gb = forms.IntegerField(
        label="Minimum disk size (GB)",
        required=False,
        help_text="Decimal GB, as on the disk's label; with a minimum of disks, each of them.",
    )
    min_nics = forms.IntegerField(label="Minimum NICs", required=False)
    modem = forms.ChoiceField(
        label="Modem",
        required=False,
        choices=[("", "not checked"), ("yes", "required"), ("no", "must have none")],
    )
    image_anyway = forms.BooleanField(
        label="Image anyway",
        required=False,
        help_text="A device that fails these requirements is flagged but still sent to imaging.",
    )

    REQUIREMENTS = ("cpu_pattern", "min_cores", "min_memory_gib", "min_disks", "min_disk_gb",
                    "min_nics")  # fmt: skip

    def clean_capabilities(self):
        value = self.cleaned_data.get("capabilities")
        return {} if value in (None, "") else value

    @classmethod
    def initial_of(cls, spec: DeviceSpec) -> dict:
        required = spec.requirements or {}
        modem = {True: "yes", False: "no"}.get(required.get("modem"), "")
        return {
            "name": spec.name,
            "name_patterns": "\n".join(spec.name_patterns or []),
            "capabilities": spec.capabilities,
            "imaging_url": spec.imaging_url,
            **{key: required.get(key) for key in cls.REQUIREMENTS},
            "modem": modem,
            "image_anyway": spec.image_anyway,
        }

    def service_fields(self) -> dict:
        """What spec_save takes, from the cleaned form."""
        data = self.cleaned_data
        requirements = {key: data.get(key) for key in self.REQUIREMENTS}
        requirements["modem"] = {"yes": True, "no": False}.get(data.get("modem") or "")
        return {
            "name": data["name"],
            "name_patterns": data["name_patterns"],
            "capabilities": data["capabilities"],
            "imaging_url": data["imaging_url"],
            "requirements": requirements,
            "image_anyway": bool(data.get("image_anyway")),
        }


class SpecCheckForm(BootstrapForm):
    reported = forms.CharField(
        label="Reported name",
        max_length=300,
        required=False,
        help_text="What a device reports as device_spec, e.g. NUC11TNHi5",
    )


# --- journal -----------------------------------------------------------------------------------


class SerialDecideForm(BootstrapForm):
    """Staff's decision on a suspect serial (inventory/services/serials.py)."""

    decision = forms.ChoiceField(choices=[("confirm", "Confirm"), ("clear", "Clear")])
    note = forms.CharField(max_length=500, required=False)


class ResolveForm(BootstrapForm):
    action = forms.ChoiceField(
        choices=[("attach", "Attach to a device"), ("create", "Create a new device")],
        widget=forms.RadioSelect,
    )
    device_id = forms.ChoiceField(label="Device", required=False)

    def __init__(self, *args, device_ids: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device_id"].choices = [("", "—"), *[(d, d) for d in device_ids]]
        self.fields["action"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if data.get("action") == "attach" and not data.get("device_id"):
            self.add_error("device_id", "Choose the device to attach the submission to.")
        return data


# --- webhooks ----------------------------------------------------------------------------------


class WebhookEditForm(BootstrapForm):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="http:// or https:// only; each delivery is a signed POST (docs/webhooks.md).",
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(max_length=200, required=False)
    active = forms.BooleanField(required=False, initial=True)


class WebhookForm(WebhookEditForm):
    organization = forms.ModelChoiceField(queryset=None, required=False)
    secret = forms.CharField(
        max_length=200,
        required=False,
        help_text="Blank: one is generated. Either way it is shown once, after saving.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["url", "event_types", "organization", "description", "secret", "active"]

    def __init__(self, *args, organizations, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = organizations
        # Staff may subscribe to every organization's events; an organization's admin to theirs.
        field.required = not staff
        field.empty_label = "(every organization)" if staff else "Choose…"
        if not staff and organizations.count() == 1:
            field.initial = organizations.first()
