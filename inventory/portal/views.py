"""The portal's pages. Each view parses (a form or a FilterSet), calls one service or selector
and renders; an InventoryError from a service becomes a form error or a message.

Every page needs a login (LoginRequiredMiddleware); every change is a POST with CSRF protection.
Objects are always read through the selectors' per-user querysets, so an organization member
gets a 404 for another organization's device or request. Organizations, spec editing, the
journal and the audit trail are for staff (403 otherwise).
"""

from __future__ import annotations

import csv
import functools
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from inventory import authz, filters, selectors
from inventory.errors import Conflict, InventoryError, NotFound
from inventory.portal import forms, tables
from inventory.services import catalog, devices, serials, status, submission, timeline
from inventory.services.matching import spec_match

PER_PAGE = 50


def staff_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not authz.is_staff(request.user):
            raise PermissionDenied("staff only")
        return view(request, *args, **kwargs)

    return wrapper


def _or_404(reader, **kwargs):
    try:
        return reader(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _table(request, table):
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return table


def _device_link(user, device_id: str | None) -> str:
    """A link to the device when *user* may see it, else nothing (another organization's)."""
    if not authz.visible_device_id(user, device_id):
        return ""
    url = reverse("portal:device_detail", args=[device_id])
    return format_html('<a href="{}" class="alert-link">{}</a>', url, device_id)


# --- dashboard ---------------------------------------------------------------------------------


def dashboard(request):
    user = request.user
    context = {
        "counts": selectors.device_status_counts(user),
        "latest": selectors.latest_inventories(user, limit=8),
        "flagged": selectors.flagged_devices(user)[:10],
        "flagged_total": selectors.flagged_devices(user).count(),
        "failing": selectors.devices_failing_spec(user)[:10],
        "failing_total": selectors.devices_failing_spec(user).count(),
    }
    if user.is_staff:
        context["attention"] = selectors.submission_queryset(
            user=user, outcomes=selectors.ATTENTION_OUTCOMES
        )[:8]
        context["attention_counts"] = selectors.submission_attention_counts()
    return render(request, "portal/dashboard.html", context)


# --- devices -----------------------------------------------------------------------------------


def _filter(request, filterset_class, queryset):
    """The shared FilterSet (inventory/filters.py) over *queryset*, and the page's status: 400
    when a filter value is bad (the bar shows why; the list is empty)."""
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    return filterset, 200 if filterset.is_valid() else 400


def _device_filter(request) -> filters.DeviceFilter:
    return _filter(request, filters.DeviceFilter, selectors.device_list(user=request.user))[0]


def device_list(request):
    devicefilter, status_code = _filter(
        request, filters.DeviceFilter, selectors.device_list(user=request.user)
    )
    table = _table(request, tables.DeviceTable(devicefilter.qs))
    context = {
        "filter": devicefilter,
        "table": table,
        "bulk_form": forms.BulkStatusForm(),
        "query": request.GET.urlencode(),
    }
    return render(request, "portal/device_list.html", context, status=status_code)


class _Echo:
    def write(self, value):
        return value


EXPORT_COLUMNS = (
    "id",
    "name",
    "serial_number",
    "sn_source",
    "macs",
    "spec",
    "reported_spec",
    "organization",
    "inventory_status",
    "imaging_status",
    "has_modem",
    "imei",
    "updated_at",
)


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: device names come from devices.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def device_export(request):
    """The filtered (and sorted) device list as CSV, without pagination."""
    table = tables.DeviceTable(_device_filter(request).qs)
    RequestConfig(request, paginate=False).configure(table)

    def rows():
        yield EXPORT_COLUMNS
        for device in table.data:
            yield (
                device.pk,
                device.name,
                device.serial_number,
                device.sn_source,
                " ".join(str(m) for m in device.macs.all()),
                device.spec.name if device.spec_id else "",
                device.reported_spec,
                device.organization.name if device.organization_id else "",
                device.inventory_status,
                device.imaging_status,
                "yes" if device.has_modem else "no",
                device.imei,
                device.updated_at.isoformat(),
            )

    writer = csv.writer(_Echo())
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        (writer.writerow([_csv_cell(v) for v in row]) for row in rows()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="devices-{stamp}.csv"'
    return response


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
def device_bulk_status(request):
    form = forms.BulkStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, reverse("portal:device_list"))
    try:
        updated = status.device_status_bulk_update(
            device_ids=form.cleaned_data["device_ids"],
            new_status=form.cleaned_data["new_status"],
            actor=request.user,
        )
    except InventoryError as exc:
        messages.error(request, exc.message)
    else:
        label = dict(form.fields["new_status"].choices)[form.cleaned_data["new_status"]]
        noun = "device" if len(updated) == 1 else "devices"
        messages.success(request, f"{len(updated)} {noun} set to {label}.")
    return _back(request, reverse("portal:device_list"))


def _device_edit_initial(device) -> dict:
    # Only what the operator changes is sent to device_update, which locks each field it sets.
    return {"name": device.name, "spec": device.spec_id, "organization": device.organization_id}


def _device_page(request, device, *, serial_form=None, edit_form=None, status_code=200):
    user = request.user
    history = list(selectors.device_history(device))
    context = {
        "device": device,
        "macs": list(device.macs.all()),
        "history": history,
        "submissions": list(selectors.device_submissions(device)),
        "timeline": timeline.device_timeline(device),
        # A serial several machines report (inventory/services/serials.py) finds no device.
        "serial_placeholder": bool(device.serial_number)
        and not serials.serial_identifies(device.serial_number),
        "serial_form": serial_form
        or forms.SerialForm(initial={"serial_number": device.serial_number or ""}),
        "edit_form": edit_form
        or forms.DeviceEditForm(
            initial=_device_edit_initial(device),
            organizations=selectors.organization_choices(user),
            staff=user.is_staff,
        ),
    }
    return render(request, "portal/device_detail.html", context, status=status_code)


def device_detail(request, device_id: str):
    device = _or_404(selectors.device_get, device_id=device_id, user=request.user)
    return _device_page(request, device)


@require_POST
def device_serial(request, device_id: str):
    device = _or_404(selectors.device_get, device_id=device_id, user=request.user)
    form = forms.SerialForm(request.POST)
    if form.is_valid():
        try:
            devices.device_update(
                device_id=device.pk,
                serial_number=form.cleaned_data["serial_number"],
                actor=request.user,
            )
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, "Serial number saved.")
            return redirect("portal:device_detail", device_id=device.pk)
    return _device_page(request, device, serial_form=form, status_code=400)


@require_POST
def device_edit(request, device_id: str):
    device = _or_404(selectors.device_get, device_id=device_id, user=request.user)
    form = forms.DeviceEditForm(
        request.POST,
        initial=_device_edit_initial(device),
        organizations=selectors.organization_choices(request.user),
        staff=request.user.is_staff,
    )
    if form.is_valid():
        data = form.cleaned_data
        changed = {k: data[k] for k in form.changed_data}
        fields = {}
        if "name" in changed:
            fields["name"] = changed["name"]
        if "spec" in changed:
            fields["spec"] = changed["spec"].pk if changed["spec"] else None
        if "organization" in changed:
            fields["organization"] = changed["organization"]
        try:
            if fields:
                devices.device_update(device_id=device.pk, actor=request.user, **fields)
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, "Device saved." if fields else "Nothing changed.")
            if not selectors.device_queryset(request.user).filter(pk=device.pk).exists():
                return redirect("portal:device_list")
            return redirect("portal:device_detail", device_id=device.pk)
    return _device_page(request, device, edit_form=form, status_code=400)


@require_POST
def device_reinventory(request, device_id: str):
    try:
        devices.device_flag_for_inventory(device_id=device_id, actor=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, "Flagged: the device will be inventoried on its next network boot.")
    return redirect("portal:device_detail", device_id=device_id)


# --- Quick MAC Inventory -----------------------------------------------------------------------


def _quick_add_page(request, *, single=None, bulk=None, results=None, status_code=200):
    orgs = selectors.organization_choices(request.user)
    summary = None
    if results is not None:
        summary = {k: sum(1 for r in results if r.outcome == k) for k in ("added", "exists")}
        summary["invalid"] = len(results) - summary["added"] - summary["exists"]
        visible = set(
            selectors.device_queryset(request.user)
            .filter(pk__in=[r.device_id for r in results if r.device_id])
            .values_list("pk", flat=True)
        )
        for line in results:
            line.visible = line.device_id in visible
    return render(
        request,
        "portal/quick_add.html",
        {
            "single": single or forms.QuickAddForm(organizations=orgs, prefix="single"),
            "bulk": bulk or forms.QuickAddBulkForm(organizations=orgs, prefix="bulk"),
            "results": results,
            "summary": summary,
        },
        status=status_code,
    )


@require_http_methods(["GET", "POST"])
def quick_add(request):
    if request.method == "GET":
        return _quick_add_page(request)
    orgs = selectors.organization_choices(request.user)
    form = forms.QuickAddForm(request.POST, organizations=orgs, prefix="single")
    if form.is_valid():
        try:
            device = devices.device_quick_add(
                mac_address=form.cleaned_data["mac_address"],
                organization=form.cleaned_data["organization"],
                actor=request.user,
            )
        except Conflict as exc:
            if exc.code != "mac_already_registered":
                forms.add_service_error(form, exc)
            else:
                device_id = exc.extra.get("device_id")
                messages.warning(
                    request,
                    format_html(
                        "MAC <code>{}</code> is already registered{}{}. It was not added again.",
                        exc.extra.get("mac", ""),
                        ": device " if device_id else "",
                        _device_link(request.user, device_id),
                    ),
                )
                return redirect("portal:quick_add")
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            mac = device.macs.values_list("mac", flat=True)[0]
            messages.success(
                request,
                format_html(
                    'Added <code class="normalized-mac">{}</code> as device '
                    '<a href="{}" class="alert-link">{}</a> for {}: it will be inventoried on its '
                    "next network boot.",
                    mac,
                    reverse("portal:device_detail", args=[device.pk]),
                    device.pk,
                    device.organization,
                ),
            )
            return redirect("portal:quick_add")
    return _quick_add_page(request, single=form, status_code=400)


@require_POST
def quick_add_bulk(request):
    orgs = selectors.organization_choices(request.user)
    form = forms.QuickAddBulkForm(request.POST, request.FILES, organizations=orgs, prefix="bulk")
    if form.is_valid():
        try:
            results = devices.device_quick_add_bulk(
                macs=form.lines(),
                organization=form.cleaned_data["organization"],
                actor=request.user,
            )
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            return _quick_add_page(request, results=results)
    return _quick_add_page(request, bulk=form, status_code=400)


# --- device requests ---------------------------------------------------------------------------


def request_list(request):
    requestfilter, status_code = _filter(
        request, filters.RequestFilter, selectors.request_list(request.user)
    )
    table = _table(request, tables.RequestTable(requestfilter.qs))
    context = {"filter": requestfilter, "table": table}
    return render(request, "portal/request_list.html", context, status=status_code)


def _create_page(request, form, title: str, list_route: str, list_label: str):
    """The "New …" page of a form; 400 when a submitted form came back with errors."""
    context = {
        "form": form,
        "title": title,
        "list_url": reverse(list_route),
        "list_label": list_label,
    }
    return render(request, "portal/create_form.html", context, status=400 if form.is_bound else 200)


def _request_save(request, form, pk=None):
    data = form.cleaned_data
    return catalog.request_save(
        pk=pk,
        organization=data["organization"],
        spec=data["spec"].pk if data["spec"] else None,
        target_macs=data["target_macs"],
        status=data["status"],
        note=data["note"],
        actor=request.user,
    )


@require_http_methods(["GET", "POST"])
def request_create(request):
    orgs = selectors.organization_choices(request.user)
    form = forms.RequestForm(request.POST or None, organizations=orgs)
    if request.method == "POST" and form.is_valid():
        try:
            req = _request_save(request, form)
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, f"Request #{req.pk} created.")
            return redirect("portal:request_detail", request_id=req.pk)
    return _create_page(request, form, "New device request", "portal:request_list", "Requests")


@require_http_methods(["GET", "POST"])
def request_detail(request, request_id: int):
    req = _or_404(selectors.request_get, request_id=request_id, user=request.user)
    orgs = selectors.organization_choices(request.user)
    initial = {
        "organization": req.organization_id,
        "spec": req.spec_id,
        "target_macs": "\n".join(m.mac for m in req.macs.all()),
        "status": req.status,
        "note": req.note,
    }
    form = forms.RequestForm(request.POST or None, initial=initial, organizations=orgs)
    if request.method == "POST" and form.is_valid():
        try:
            _request_save(request, form, pk=req.pk)
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, f"Request #{req.pk} saved.")
            return redirect("portal:request_detail", request_id=req.pk)
    context = {
        "req": req,
        "form": form,
        "devices": req.devices.select_related("spec").order_by("id"),
        "audit": selectors.audit_entries(object_type="request", object_id=req.pk),
    }
    return render(
        request, "portal/request_detail.html", context, status=400 if form.is_bound else 200
    )


# --- organizations and specs -------------------------------------------------------------------


@staff_required
def organization_list(request):
    table = _table(request, tables.OrganizationTable(selectors.organization_list()))
    return render(request, "portal/organization_list.html", {"table": table})


@staff_required
@require_http_methods(["GET", "POST"])
def organization_create(request):
    return _organization_form(request, None)


@staff_required
@require_http_methods(["GET", "POST"])
def organization_edit(request, org_id: int):
    org = selectors.organization_list().filter(pk=org_id).first()
    if org is None:
        raise Http404("no such organization")
    return _organization_form(request, org)


def _organization_form(request, org):
    initial = {"name": org.name, "slug": org.slug, "imaging_url": org.imaging_url} if org else None
    form = forms.OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = catalog.organization_save(
                pk=org.pk if org else None, actor=request.user, **form.cleaned_data
            )
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, f"Organization {saved.name} saved.")
            return redirect("portal:organization_edit", org_id=saved.pk)
    context = {
        "org": org,
        "form": form,
        "audit": selectors.audit_entries(object_type="organization", object_id=org.pk)
        if org
        else [],
    }
    status_code = 400 if form.is_bound else 200
    return render(request, "portal/organization_form.html", context, status=status_code)


def spec_list(request):
    table = _table(request, tables.SpecTable(selectors.spec_list()))
    return render(request, "portal/spec_list.html", {"table": table})


@staff_required
@require_http_methods(["GET", "POST"])
def spec_create(request):
    form = forms.SpecForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spec = catalog.spec_save(actor=request.user, **form.service_fields())
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, f"Device spec {spec.name} created.")
            return redirect("portal:spec_detail", spec_id=spec.pk)
    return _create_page(request, form, "New device spec", "portal:spec_list", "Specs")


@require_http_methods(["GET", "POST"])
def spec_detail(request, spec_id: int):
    spec = selectors.spec_list().filter(pk=spec_id).first()
    if spec is None:
        raise Http404("no such device spec")
    if request.method == "POST" and not request.user.is_staff:
        raise PermissionDenied("staff only")
    form = forms.SpecForm(request.POST or None, initial=forms.SpecForm.initial_of(spec))
    if request.method == "POST" and form.is_valid():
        try:
            catalog.spec_save(pk=spec.pk, actor=request.user, **form.service_fields())
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, "Device spec saved.")
            return redirect("portal:spec_detail", spec_id=spec.pk)
    check = forms.SpecCheckForm(request.GET)
    verdict = None
    if check.is_valid() and check.cleaned_data["reported"].strip():
        reported = check.cleaned_data["reported"]
        picked = spec_match(reported)
        verdict = {"reported": reported, "picked": picked, "this": picked == spec}
    context = {
        "spec": spec,
        "form": form,
        "check": check,
        "verdict": verdict,
        "audit": selectors.audit_entries(object_type="spec", object_id=spec.pk),
    }
    return render(request, "portal/spec_detail.html", context, status=400 if form.is_bound else 200)


# --- journal and audit -------------------------------------------------------------------------


@staff_required
def submission_list(request):
    journal, status_code = _filter(
        request, filters.SubmissionFilter, selectors.submission_queryset(user=request.user)
    )
    table = _table(request, tables.SubmissionTable(journal.qs))
    context = {"filter": journal, "table": table}
    return render(request, "portal/submission_list.html", context, status=status_code)


def _submission_page(request, entry, form=None, status_code=200):
    candidates = list(
        selectors.device_queryset(request.user)
        .filter(pk__in=entry.conflict_device_ids or [])
        .select_related("spec", "organization")
        .prefetch_related("macs")
    )
    if form is None and entry.outcome == "conflict":
        form = forms.ResolveForm(device_ids=entry.conflict_device_ids or [])
    context = {"entry": entry, "candidates": candidates, "form": form}
    return render(request, "portal/submission_detail.html", context, status=status_code)


@staff_required
def submission_detail(request, submission_id: int):
    entry = _or_404(selectors.submission_get, submission_id=submission_id, user=request.user)
    return _submission_page(request, entry)


@staff_required
@require_POST
def submission_resolve(request, submission_id: int):
    entry = _or_404(selectors.submission_get, submission_id=submission_id, user=request.user)
    form = forms.ResolveForm(request.POST, device_ids=entry.conflict_device_ids or [])
    if form.is_valid():
        try:
            result = submission.submission_resolve(
                submission_id=entry.pk,
                action=form.cleaned_data["action"],
                device_id=form.cleaned_data["device_id"] or None,
                actor=request.user,
            )
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(
                request,
                format_html(
                    'Submission #{} resolved: device <a href="{}" class="alert-link">{}</a>.',
                    entry.pk,
                    reverse("portal:device_detail", args=[result.device_id]),
                    result.device_id,
                ),
            )
            return redirect("portal:submission_detail", submission_id=entry.pk)
    return _submission_page(request, entry, form=form, status_code=400)


@staff_required
def serial_list(request):
    """Suspect serials: serials that machines with different MACs report, which identify no
    device until staff decide; each with its MAC sets, the devices and the waiting merges."""
    found, status_code = _filter(
        request, filters.SerialFilter, selectors.suspect_serials(user=request.user)
    )
    context = {
        "filter": found,
        "reports": selectors.serial_reports(found.qs[:200], user=request.user),
        "threshold": serials.threshold(),
    }
    return render(request, "portal/serial_list.html", context, status=status_code)


@staff_required
@require_POST
def serial_decide(request, serial_id: int):
    suspect = _or_404(selectors.suspect_serial_get, suspect_id=serial_id, user=request.user)
    form = forms.SerialDecideForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Serial {suspect.serial}: {errors}")
        return redirect("portal:serial_list")
    try:
        decided = serials.serial_decide(
            suspect_id=suspect.pk, actor=request.user, **form.cleaned_data
        )
    except InventoryError as exc:
        messages.error(request, f"Serial {suspect.serial}: {exc.message}")
    else:
        messages.success(request, f"Serial {decided.serial}: {decided.get_state_display()}.")
    return redirect("portal:serial_list")


@staff_required
def audit_list(request):
    audit, status_code = _filter(
        request, filters.AuditFilter, selectors.audit_entries(user=request.user)
    )
    table = _table(request, tables.AuditTable(audit.qs))
    context = {
        "table": table,
        "device_changes": selectors.device_changes_by_people(limit=50),
        "type": request.GET.get("type") or None,
        "filter": audit,
    }
    return render(request, "portal/audit_list.html", context, status=status_code)


def boot_list(request):
    """Every boot request the iPXE endpoint answered; `?mac=` narrows to one MAC (any form)."""
    boots, status_code = _filter(
        request, filters.BootEventFilter, selectors.boot_events(user=request.user)
    )
    table = _table(request, tables.BootEventTable(boots.qs))
    context = {"table": table, "filter": boots, "mac": request.GET.get("mac", "").strip()}
    return render(request, "portal/boot_list.html", context, status=status_code)


def _live_context(request) -> dict:
    rows = timeline.onboarding_live(user=request.user)
    return {
        "rows": rows,
        "stuck": sum(1 for r in rows if r.stuck),
        "stuck_after": timeline.humane(timeline.stuck_after("")),
    }


def onboarding(request):
    """Devices onboarding now, grouped by request or organization; the rows refresh on their
    own (static/onboarding.js asks onboarding_rows every few seconds)."""
    context = _live_context(request) | {"poll_ms": settings.ARROW_LIVE_POLL_MS}
    return render(request, "portal/onboarding.html", context)


def onboarding_rows(request):
    return render(request, "portal/_onboarding_rows.html", _live_context(request))
