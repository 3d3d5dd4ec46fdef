"""arrow.wsgi: devices' calls run on the lean service stack, everything else on the full one."""

import io
import json

import pytest
from django.conf import settings
from django.test import override_settings
from django.test.client import RequestFactory

from arrow import wsgi
from arrow.wsgi import application

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_wsgi")]


def call(path: str, body: dict | None = None, headers: dict | None = None, app=application):
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

    payload = b"".join(app(environ, start_response))
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


class Recording:
    """A service middleware that notes what it saw: the settings' MIDDLEWARE when it was built,
    and each hook as a request passes."""

    seen: list = []

    def __init__(self, get_response):
        self.get_response = get_response
        Recording.seen.append(("built", list(settings.MIDDLEWARE)))

    def __call__(self, request):
        Recording.seen.append(("call", request.path))
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        Recording.seen.append(("view", request.path))


RECORDING = f"{__name__}.Recording"


def test_the_service_chain_is_built_without_touching_the_global_middleware_setting():
    Recording.seen = []
    full = list(settings.MIDDLEWARE)
    with override_settings(SERVICE_MIDDLEWARE=[*settings.SERVICE_MIDDLEWARE, RECORDING]):
        handler = wsgi.ServiceHandler()
    # While the service chain was built, anyone reading MIDDLEWARE saw the full stack.
    assert Recording.seen == [("built", full)]
    assert full == settings.MIDDLEWARE

    def app(environ, start_response):
        return handler(environ, start_response)

    status, headers, _ = call("/api/inventory/check-mac", {"mac_address": "x"}, app=app)
    assert status == 401
    assert "x-frame-options" not in headers
    # Both the call and the view hook of a service middleware run.
    assert Recording.seen[1:] == [
        ("call", "/api/inventory/check-mac"),
        ("view", "/api/inventory/check-mac"),
    ]


def test_the_service_handler_builds_no_middleware_left_out_of_its_list():
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, RECORDING]):
        Recording.seen = []
        wsgi.ServiceHandler().load_middleware()
    assert Recording.seen == []
