"""URLs for the boot-path test: the application's, plus a stand-in imaging target.

The imaging system is outside ARROW; the test serves the one iPXE script it would answer, which
prints a marker on the device's console, so the test can see that the chain reached it.
"""

from django.http import HttpResponse
from django.urls import path

from arrow.urls import urlpatterns as app_urlpatterns

MARKER = "ARROW-TEST-IMAGING-TARGET-REACHED"


def imaging_script(request, device_id: str) -> HttpResponse:
    return HttpResponse(
        f"#!ipxe\necho {MARKER} device {device_id}\nsleep 600\n", content_type="text/plain"
    )


imaging_script.login_required = False  # a device has no session

urlpatterns = [
    path("test-imaging/<str:device_id>.ipxe", imaging_script),
    *app_urlpatterns,
]
