"""arrow.wsgi: devices' calls run on the lean service stack, everything else on the full one."""

import io
import json

import pytest
from django.test.client import RequestFactory

from arrow.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_wsgi")]


def call(path: str, body: dict | None = None, headers: dict | None = None):
    factory = RequestFactory()
    environ = factory._base_environ(PATH_INFO=path, REQUEST_METHOD="GET")
    if body is not None:
        data = json.dumps(body).encode()
        environ.update(
            REQUEST_METHOD="POST",
            CONTENT_TYPE="application/json",
            CONTENT_LENGTH=str(len(data)),
        )
        environ["wsgi.input"] = io.BytesIO(data)
    environ.update(headers or {})
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = {k.lower(): v for k, v in response_headers}

    payload = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"], payload


def test_service_endpoints_run_without_the_portals_middleware(service_key, demo):
    status, headers, payload = call(
        "/api/inventory/check-mac",
        {"mac_address": "00:e0:4c:92:f7:a4"},
        {"HTTP_X_SERVICE_API_KEY": service_key},
    )
    assert status == 200
    assert json.loads(payload)["needs_inventory"] is True
    assert "x-frame-options" not in headers  # XFrameOptionsMiddleware: portal stack only
    assert "set-cookie" not in headers


def test_service_endpoints_still_refuse_a_missing_key_without_a_login_redirect():
    status, _, payload = call("/api/inventory/submit", {"inventory_data": {}})
    assert status == 401
    assert json.loads(payload)["field"] == "X-Service-Api-Key"


def test_everything_else_runs_on_the_full_stack():
    status, headers, _ = call("/api/openapi.json")
    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    status, headers, _ = call("/django-admin/")
    assert status == 302  # LoginRequiredMiddleware / admin login
