"""Fixtures shared by every suite. They build on each other: service_key -> device_client;
staff_user -> staff_client / admin_token -> admin_client; real_wsgi for the production handler."""

from __future__ import annotations

import json
import os

import pytest

from inventory.schemas import SUBMIT_EXAMPLE_FILE

SERVICE_KEY = "test-service-key"
DOC_MAC = "00:e0:4c:92:f7:a4"
# The documentation's submit example, verbatim: a copy of its own, read from the file the
# schema's example comes from, so a test that changes it cannot change the schema's.
DOC_SUBMIT = json.loads(SUBMIT_EXAMPLE_FILE.read_text(encoding="utf-8"))

POSTGRES_HOWTO = "make test (or bash scripts/testdb.sh run pytest ...) gives it a cluster"


def pytest_configure(config):
    """A run meant for PostgreSQL stops at once, before any test, when the database is anything
    else: scripts/testdb.sh sets ARROW_EXPECT_POSTGRES=1, so a DATABASE_URL lost on the way
    (and Django's SQLite default taking over) cannot pass for a PostgreSQL run."""
    if os.environ.get("ARROW_EXPECT_POSTGRES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        raise pytest.UsageError(
            f"this run is meant for PostgreSQL (ARROW_EXPECT_POSTGRES=1) but the database is "
            f"{engine}: DATABASE_URL={os.environ.get('DATABASE_URL', '(unset)')!r}"
        )


@pytest.fixture(autouse=True)
def _postgres_tests_need_postgres(request):
    """A test marked postgres fails, never passes or skips, on another database."""
    if request.node.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail(f"this test needs PostgreSQL, not {connection.vendor}: {POSTGRES_HOWTO}")


@pytest.fixture(autouse=True)
def service_key(settings):
    """Configures one service key (the tests that need none or several override it)."""
    settings.DEVICE_LOOKUP_API_KEYS = (SERVICE_KEY,)
    return SERVICE_KEY


class JsonClient:
    """Django's test Client (the full middleware stack) speaking JSON with a header set."""

    def __init__(self, client, headers: dict[str, str]):
        self.client = client
        self.headers = headers

    def post(self, path: str, body=None, *, raw: bytes | str | None = None, headers=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            path,
            data=data,
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def get(self, path: str, params=None):
        return self.client.get(path, params or {}, headers=self.headers)

    def put(self, path: str, body):
        return self.client.put(
            path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def device_client(service_key):
    """A device: Django's Client sending the service key, through the middleware the service
    endpoints get in production (SERVICE_MIDDLEWARE, see arrow/wsgi.py)."""
    from django.test import Client
    from django.test.client import ClientHandler

    from arrow.wsgi import ServiceMiddleware

    class ServiceClientHandler(ServiceMiddleware, ClientHandler):
        pass

    client = Client()
    client.handler = ServiceClientHandler(enforce_csrf_checks=False)
    return JsonClient(client, {"X-Service-Api-Key": service_key})


@pytest.fixture
def real_wsgi():
    """For tests that call arrow.wsgi.application itself: the real handler closes a connection
    found inside a transaction at each request (close_old_connections), which in a test is the
    test's own; Django's test Client unhooks it the same way for its duration."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw-staff-1", is_staff=True)


@pytest.fixture
def admin_client(client, staff_user):
    """A script using the admin API with a staff user's Bearer token."""
    from inventory.auth import api_token_create

    token = api_token_create(user=staff_user, name="tests")
    return JsonClient(client, {"Authorization": f"Bearer {token}"})


@pytest.fixture
def demo(db):
    """The demo data of `make run`: Demo Org, Intel NUC 11 Pro (*NUC11TN*), request for DOC_MAC."""
    from django.core.management import call_command

    call_command("demo_data", quiet_login=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    from inventory.models import DeviceRequest, DeviceSpec, Organization

    return {
        "org": Organization.objects.get(name="Demo Org"),
        "spec": DeviceSpec.objects.get(name="Intel NUC 11 Pro"),
        "request": DeviceRequest.objects.get(),
    }
