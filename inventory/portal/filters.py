"""django-filter FilterSets of the portal's lists; every parameter is in the URL, so a filtered
list (``/devices/?q=00-E0-4C-92-F7-A4``) is a link an operator can send."""

from __future__ import annotations

import django_filters
from django import forms

from inventory import selectors
from inventory.choices import (
    ImagingStatus,
    InventoryStatus,
    RequestStatus,
    SubmissionOutcome,
)
from inventory.models import Device, DeviceRequest, DeviceSpec, Submission

ANY = "Any"
YES_NO = [("", ANY), ("true", "Yes"), ("false", "No")]


class FilterForm(forms.Form):
    """Bootstrap classes on every filter widget (the filter bar is a row of small controls)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"


def _visible_organizations(request):
    return selectors.organization_choices(request.user)


class DeviceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "MAC (any form), serial, name or id"}),
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=_visible_organizations, empty_label=ANY
    )
    spec = django_filters.ModelChoiceFilter(
        queryset=DeviceSpec.objects.all(), null_label="No match", null_value="none", empty_label=ANY
    )
    inventory_status = django_filters.ChoiceFilter(
        choices=InventoryStatus.choices, label="Inventory", empty_label=ANY
    )
    imaging_status = django_filters.ChoiceFilter(
        choices=ImagingStatus.choices, label="Imaging", empty_label=ANY
    )
    has_modem = django_filters.BooleanFilter(label="Modem", widget=forms.Select(choices=YES_NO))

    class Meta:
        model = Device
        fields = ["q", "organization", "spec", "inventory_status", "imaging_status", "has_modem"]
        form = FilterForm

    def search(self, queryset, name, value):
        return queryset.filter(selectors.device_search_q(value)) if value.strip() else queryset


class RequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, empty_label=ANY)
    organization = django_filters.ModelChoiceFilter(
        queryset=_visible_organizations, empty_label=ANY
    )

    class Meta:
        model = DeviceRequest
        fields = ["status", "organization"]
        form = FilterForm


# What the journal shows when no outcome is chosen: what waits for a person.
DEFAULT_OUTCOMES = [o.value for o in selectors.ATTENTION_OUTCOMES]


class SubmissionFilter(django_filters.FilterSet):
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
