"""The portal's URLs, mounted at / by arrow/urls.py (namespace "portal")."""

from django.urls import path

from inventory.portal import views

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
    path("requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:org_id>/", views.organization_edit, name="organization_edit"),
    path("specs/", views.spec_list, name="spec_list"),
    path("specs/new/", views.spec_create, name="spec_create"),
    path("specs/<int:spec_id>/", views.spec_detail, name="spec_detail"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/<int:submission_id>/", views.submission_detail, name="submission_detail"),
    path(
        "submissions/<int:submission_id>/resolve/",
        views.submission_resolve,
        name="submission_resolve",
    ),
    path("audit/", views.audit_list, name="audit_list"),
    path("boots/", views.boot_list, name="boot_list"),
]
