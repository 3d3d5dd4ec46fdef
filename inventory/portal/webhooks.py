"""The portal's webhook pages: subscriptions (staff, and an organization's admins for their own),
the delivery log of each, and "redeliver". Thin like the other views: a form, one service call,
a render; the services and authz decide who may do what."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from inventory import authz, selectors
from inventory.errors import InventoryError, NotFound
from inventory.portal import forms
from inventory.services import webhooks

DELIVERIES_SHOWN = 50


def _managers_only(request) -> None:
    user = request.user
    if not (authz.is_staff(user) or authz.organizations(user, authz.MANAGE).exists()):
        raise PermissionDenied("staff and organization admins only")


def _subscription(request, webhook_id: int):
    try:
        return selectors.webhook_get(user=request.user, pk=webhook_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def webhook_list(request):
    _managers_only(request)
    subs = selectors.webhook_list(request.user)
    return render(request, "portal/webhook_list.html", {"subscriptions": subs})


@require_http_methods(["GET", "POST"])
def webhook_create(request):
    _managers_only(request)
    staff = authz.is_staff(request.user)
    orgs = authz.organizations(request.user, authz.MANAGE).order_by("name")
    form = forms.WebhookForm(request.POST or None, organizations=orgs, staff=staff)
    if request.method == "POST" and form.is_valid():
        try:
            sub, secret = webhooks.webhook_subscription_create(
                actor=request.user, **form.cleaned_data
            )
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            # The secret goes into this answer only: never a message (kept in the session).
            return render(request, "portal/webhook_created.html", {"sub": sub, "secret": secret})
    status_code = 400 if form.is_bound else 200
    return render(request, "portal/webhook_form.html", {"form": form}, status=status_code)


@require_http_methods(["GET", "POST"])
def webhook_detail(request, webhook_id: int):
    sub = _subscription(request, webhook_id)
    initial = {
        "url": sub.url,
        "event_types": sub.event_types,
        "description": sub.description,
        "active": sub.active,
    }
    form = forms.WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.webhook_subscription_update(actor=request.user, pk=sub.pk, **form.cleaned_data)
        except InventoryError as exc:
            forms.add_service_error(form, exc)
        else:
            messages.success(request, f"Webhook #{sub.pk} saved.")
            return redirect("portal:webhook_detail", webhook_id=sub.pk)
    deliveries = selectors.webhook_deliveries(user=request.user, subscription=sub)
    context = {
        "sub": sub,
        "form": form,
        "deliveries": deliveries[:DELIVERIES_SHOWN],
        "delivery_total": deliveries.count(),
        "audit": selectors.audit_entries(object_type="webhook", object_id=sub.pk),
    }
    status_code = 400 if form.is_bound else 200
    return render(request, "portal/webhook_detail.html", context, status=status_code)


@require_POST
def webhook_delete(request, webhook_id: int):
    sub = _subscription(request, webhook_id)
    webhooks.webhook_subscription_delete(actor=request.user, pk=sub.pk)
    messages.success(request, f"Webhook #{sub.pk} deleted.")
    return redirect("portal:webhook_list")


@require_POST
def webhook_redeliver(request, delivery_id: int):
    try:
        delivery = webhooks.webhook_redeliver(actor=request.user, delivery_id=delivery_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"Delivery #{delivery.pk} queued again.")
    return redirect("portal:webhook_detail", webhook_id=delivery.subscription_id)
