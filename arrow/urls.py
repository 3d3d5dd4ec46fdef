"""Mounts the API, the boot endpoint and the portal."""

from django.contrib import admin as django_admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from arrow.api import api
from inventory import pxe
from inventory.metrics import metrics_view

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
    path("metrics", metrics_view, name="metrics"),
    path("pxe/progress", pxe.progress, name="pxe-progress"),
    path("pxe/image/<str:name>", pxe.image_file, name="pxe-image"),
    path("pxe/ipxe/<str:name>", pxe.ipxe_file, name="pxe-ipxe"),
    path("django-admin/", django_admin.site.urls),
    # LoginView is login-exempt already; LogoutView accepts POST only (CSRF-protected).
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("inventory.portal.urls")),
]
