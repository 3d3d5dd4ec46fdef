"""Mounts the API, the boot endpoint and the portal."""

from django.contrib import admin as django_admin
from django.urls import path

from arrow.api import api
from inventory import pxe

api_urls, app_name, namespace = api.urls
# LoginRequiredMiddleware protects every view that does not opt out. Ninja builds its own view
# wrappers and its decorators cannot carry the opt-out, so mark every API callback here: the API
# authenticates with the service key or an admin token instead of a session.
for pattern in api_urls:
    callback = getattr(pattern, "callback", None)
    if callback is not None:
        callback.login_required = False

urlpatterns = [
    path("api/", (api_urls, app_name, namespace)),
    path("pxe/boot.ipxe", pxe.boot_script, name="pxe-boot"),
    path("pxe/image/<str:name>", pxe.image_file, name="pxe-image"),
    path("django-admin/", django_admin.site.urls),
]
