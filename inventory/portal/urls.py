"""The portal's URLs, mounted at / by arrow/urls.py (namespace "portal")."""

from django.urls import path, register_converter

from inventory.portal import views, webhooks


class IdConverter:
    """A database id: 1 to 18 digits, so that no URL asks the database for a number past
    bigint (a 404, as for any id that names nothing)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("devices/", views.device_list, name="device_list"),
    path("devices/export.csv", views.device_export, name="device_export"),
    path("devices/bulk-status/", views.device_bulk_status, name="device_bulk_status"),
    path("devices/<str:device_id>/", views.device_detail, name="device_detail"),
    path("devices/<str:device_id>/serial/", views.device_serial, name="device_serial"),
    path("devices/<str:device_id>/edit/", views.device_edit, name="device_edit"),
    path(
        "devices/<str:device_id>/reinventory/",
        views.device_reinventory,
        name="device_reinventory",
    ),
    path("quick-add/", views.quick_add, name="quick_add"),
    path("quick-add/bulk/", views.quick_add_bulk, name="quick_add_bulk"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<id:request_id>/", views.request_detail, name="request_detail"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<id:org_id>/", views.organization_edit, name="organization_edit"),
    path("specs/", views.spec_list, name="spec_list"),
    path("specs/new/", views.spec_create, name="spec_create"),
    path("specs/<id:spec_id>/", views.spec_detail, name="spec_detail"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/<id:submission_id>/", views.submission_detail, name="submission_detail"),
    path(
        "submissions/<id:submission_id>/resolve/",
        views.submission_resolve,
        name="submission_resolve",
    ),
    path("serials/", views.serial_list, name="serial_list"),
    path("serials/<id:serial_id>/decide/", views.serial_decide, name="serial_decide"),
    path("audit/", views.audit_list, name="audit_list"),
    path("boots/", views.boot_list, name="boot_list"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("onboarding/rows/", views.onboarding_rows, name="onboarding_rows"),
    path("webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path("webhooks/<id:webhook_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path("webhooks/<id:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "webhooks/deliveries/<id:delivery_id>/redeliver/",
        webhooks.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
