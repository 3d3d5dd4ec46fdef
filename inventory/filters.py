"""django-filter FilterSets of every list, shared by the portal and the admin API (as NetBox
does): one parameter name, one parser and one error per filter, wherever the list is read.

Every parameter is in the URL, so a filtered list (``/devices/?q=00-E0-4C-92-F7-A4``) is a link
an operator can send, and the same query string works on the API (``/api/devices?q=...``).
A bad value is a form error: the portal shows it in the filter bar and lists nothing; the API
answers 400 naming the parameter (``filtered`` below)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import ModelChoiceField

from inventory import selectors
from inventory.choices import (
    ImagingStatus,
    InventoryStatus,
    RequestStatus,
    SerialState,
    SubmissionOutcome,
)
from inventory.errors import ValidationFailed
from inventory.models import (
    AuditEntry,
    BootEvent,
    Device,
    DeviceRequest,
    DeviceSpec,
    Submission,
    SuspectSerial,
)
from inventory.services.macs import InvalidMac, normalize_mac

ANY = "Any"
YES_NO = [("", ANY), ("true", "Yes"), ("false", "No")]
# Beyond this no name, serial or search can match; the database is not asked (docs/decisions.md).
MAX_TEXT = 200


class FilterForm(forms.Form):
    """Bootstrap classes on every filter widget (the filter bar is a row of small controls)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            widget.attrs["class"] = css


class MacField(forms.CharField):
    """A MAC in any form of the one MAC rule, cleaned to its canonical form."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        try:
            return normalize_mac(value, field="mac")
        except InvalidMac as exc:
            raise ValidationError(exc.message, code="invalid_mac") from exc


class MacFilter(django_filters.CharFilter):
    field_class = MacField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (1/0, yes/no); anything else is an error, not silently "any"."""

    # The spellings the admin API took before it used this FilterSet (pydantic's).
    VALUES = {
        **dict.fromkeys(("true", "1", "yes", "y", "t", "on"), True),
        **dict.fromkeys(("false", "0", "no", "n", "f", "off"), False),
    }

    def to_python(self, value):
        if value in (None, "", True, False):
            return value if value != "" else None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError("expected true or false", code="invalid_boolean") from None

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class NamedModelChoiceField(ModelChoiceField):
    """An object named by one of *lookups* (the first renders the select's values)."""

    def __init__(self, *args, lookups: tuple[str, ...], **kwargs):
        self.lookups = lookups
        super().__init__(*args, to_field_name=lookups[0], **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.null_label is not None and value == self.null_value:
            return value
        match = Q()
        for lookup in self.lookups:
            match |= Q(**{lookup: value})
        found = self.queryset.filter(match).first()
        if found is None:
            raise ValidationError(f"no such choice: {value!r}", code="invalid_choice")
        return found


class NamedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = NamedModelChoiceField


def _visible_organizations(request):
    return selectors.organizations_visible(getattr(request, "user", None))


class ArrowFilterSet(django_filters.FilterSet):
    """A bad value lists nothing (rather than everything, ignoring it)."""

    parameter_help: dict[str, str] = {}

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs

    def error_list(self) -> list[dict[str, str]]:
        return [
            {"field": name, "code": error["code"] or "invalid", "message": error["message"]}
            for name, errors in self.errors.get_json_data().items()
            for error in errors
        ]


def filtered(filterset_class, request, queryset):
    """The admin API's read of a list: *queryset* filtered by the request's query string, or
    ValidationFailed (400) naming every bad parameter."""
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationFailed(filterset.error_list())
    return filterset.qs


def _parameter_schema(spec) -> dict:
    if isinstance(spec, BooleanFilter):
        return {"type": "boolean"}
    if isinstance(spec, django_filters.ChoiceFilter) and "choices" in spec.extra:
        return {"type": "string", "enum": [value for value, _ in spec.extra["choices"]]}
    schema = {"type": "string"}
    if "max_length" in spec.extra:
        schema["maxLength"] = spec.extra["max_length"]
    return schema


def openapi_parameters(filterset_class) -> dict:
    """The OpenAPI query parameters of *filterset_class*, for a ninja handler's openapi_extra
    (the handler reads them through ``filtered``, so ninja cannot see them)."""
    parameters = []
    for name, spec in filterset_class.base_filters.items():
        description = filterset_class.parameter_help.get(name, str(spec.label or name))
        parameters.append(
            {
                "in": "query",
                "name": name,
                "required": False,
                "schema": _parameter_schema(spec),
                "description": description,
            }
        )
    return {"parameters": parameters}


class DeviceFilter(ArrowFilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=MAX_TEXT,
        widget=forms.TextInput(attrs={"placeholder": "MAC (any form), serial, name or id"}),
    )
    # Narrower than q, for scripts; hidden in the portal's filter bar (q covers them there).
    mac = MacFilter(field_name="macs__mac", distinct=True, widget=forms.HiddenInput)
    serial = django_filters.CharFilter(
        field_name="serial_number", lookup_expr="iexact", max_length=MAX_TEXT,
        widget=forms.HiddenInput,
    )  # fmt: skip
    name = django_filters.CharFilter(
        lookup_expr="icontains", max_length=MAX_TEXT, widget=forms.HiddenInput
    )
    organization = NamedModelChoiceFilter(
        queryset=_visible_organizations, lookups=("slug", "name"), empty_label=ANY
    )
    spec = NamedModelChoiceFilter(
        queryset=DeviceSpec.objects.all(),
        lookups=("name",),
        null_label="No match",
        null_value="none",
        empty_label=ANY,
    )
    inventory_status = django_filters.ChoiceFilter(
        choices=InventoryStatus.choices, label="Inventory", empty_label=ANY
    )
    imaging_status = django_filters.ChoiceFilter(
        choices=ImagingStatus.choices, label="Imaging", empty_label=ANY
    )
    has_modem = BooleanFilter(label="Modem", widget=forms.Select(choices=YES_NO))
    fails_spec = BooleanFilter(label="Fails its spec", widget=forms.Select(choices=YES_NO))

    class Meta:
        model = Device
        fields = [
            "q", "mac", "serial", "name", "organization", "spec",
            "inventory_status", "imaging_status", "has_modem", "fails_spec",
        ]  # fmt: skip
        form = FilterForm

    parameter_help = {
        "q": "a MAC in any form (or its last groups), a serial, a name or a device id",
        "mac": "a MAC in any form",
        "serial": "the serial number (any case)",
        "name": "part of the name (any case)",
        "organization": "the organization's slug or name",
        "spec": "the spec's name, or none for devices that match no spec",
        "fails_spec": "true for devices whose hardware fails their spec's requirements",
    }

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(selectors.device_search_q(value)).distinct()


class RequestFilter(ArrowFilterSet):
    parameter_help = {"organization": "the organization's slug or name"}

    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, empty_label=ANY)
    organization = NamedModelChoiceFilter(
        queryset=_visible_organizations, lookups=("slug", "name"), empty_label=ANY
    )

    class Meta:
        model = DeviceRequest
        fields = ["status", "organization"]
        form = FilterForm


class BootEventFilter(ArrowFilterSet):
    parameter_help = {"mac": "a MAC in any form"}

    mac = MacFilter(label="MAC", widget=forms.TextInput(attrs={"placeholder": "MAC (any form)"}))

    class Meta:
        model = BootEvent
        fields = ["mac"]
        form = FilterForm


class AuditFilter(ArrowFilterSet):
    type = django_filters.CharFilter(field_name="object_type", max_length=MAX_TEXT)

    class Meta:
        model = AuditEntry
        fields = ["type"]
        form = FilterForm


class SerialFilter(ArrowFilterSet):
    parameter_help = {"state": "suspect, confirmed or cleared"}

    state = django_filters.ChoiceFilter(choices=SerialState.choices, empty_label=ANY)

    class Meta:
        model = SuspectSerial
        fields = ["state"]
        form = FilterForm


# What the journal shows when no outcome is chosen: what waits for a person.
DEFAULT_OUTCOMES = [o.value for o in selectors.ATTENTION_OUTCOMES]


class SubmissionFilter(ArrowFilterSet):
    outcome = django_filters.MultipleChoiceFilter(
        choices=SubmissionOutcome.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Outcome",
    )

    class Meta:
        model = Submission
        fields = ["outcome"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "outcome" not in data:
            data = data.copy()
            data.setlist("outcome", DEFAULT_OUTCOMES)
        super().__init__(data, *args, **kwargs)
