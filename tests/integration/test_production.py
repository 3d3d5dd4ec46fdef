"""Production switches and edges: the client address behind nginx, HTTPS-only cookies and
HSTS, `check --deploy` with the documented environment, login throttling, ASCII-only keys,
chunked bodies and audited admin deletes. Through HTTP (Django's Client or the WSGI callable)
or a real `manage.py` process."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.test.client import RequestFactory

from inventory.models import AuditEntry, BootEvent, Submission
from tests.conftest import DOC_MAC, DOC_SUBMIT

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


# --- behind a proxy -------------------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(
    client, device_client, demo, settings
):
    settings.ARROW_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.ARROW_PXE_ALLOWED_NETWORKS = ["10.0.2.0/24"]
    nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.2.15"}
    response = client.get("/pxe/boot.ipxe", {"mac": DOC_MAC}, **nginx)
    assert response.status_code == 200
    assert BootEvent.objects.get().remote_addr == "10.0.2.15"
    response = device_client.client.post(
        "/api/inventory/submit", json.dumps(DOC_SUBMIT), content_type="application/json",
        headers=device_client.headers, **nginx,
    )  # fmt: skip
    assert response.status_code == 200
    assert Submission.objects.get().remote_addr == "10.0.2.15"


def test_a_forwarded_for_header_from_anyone_else_is_ignored(client, demo, settings):
    settings.ARROW_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.ARROW_PXE_ALLOWED_NETWORKS = ["10.0.2.0/24"]
    spoofed = {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "10.0.2.15"}
    assert client.get("/pxe/boot.ipxe", {"mac": DOC_MAC}, **spoofed).status_code == 403


def test_without_the_setting_the_proxy_is_the_client(client, demo, settings):
    settings.ARROW_TRUSTED_PROXIES = []
    nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.2.15"}
    client.get("/pxe/boot.ipxe", {"mac": DOC_MAC}, **nginx)
    assert BootEvent.objects.get().remote_addr == "127.0.0.1"


# --- login throttling -----------------------------------------------------------------------------


def test_forty_wrong_passwords_lock_the_login_out(staff_user, settings):
    client = Client()
    for _ in range(40):
        response = client.post("/login/", {"username": "staff", "password": "wrong"})
        assert response.status_code in (200, 429)
    response = client.post("/login/", {"username": "staff", "password": "pw-staff-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by this one's attempts.
    other = Client(REMOTE_ADDR="192.0.2.50")
    response = other.post("/login/", {"username": "staff", "password": "pw-staff-1"})
    assert response.status_code == 302


def test_an_operator_lifts_a_lockout_with_the_documented_command(staff_user):
    from django.core.management import call_command

    client = Client()
    for _ in range(6):
        client.post("/login/", {"username": "staff", "password": "wrong"})
    assert (
        client.post("/login/", {"username": "staff", "password": "pw-staff-1"}).status_code == 429
    )
    call_command("axes_reset_username", "staff", stdout=io.StringIO())
    assert (
        client.post("/login/", {"username": "staff", "password": "pw-staff-1"}).status_code == 302
    )


def test_a_few_wrong_passwords_then_the_right_one_still_works(staff_user):
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "staff", "password": "wrong"})
    response = client.post("/login/", {"username": "staff", "password": "pw-staff-1"})
    assert response.status_code == 302


# --- production settings --------------------------------------------------------------------------


def production_env() -> dict[str, str]:
    """The environment docs/deployment.md documents for production (its `production.env`)."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    block = re.search(r"```sh production.env\n(.*?)```", text, re.S).group(1)
    env = {}
    for line in block.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    own = ("ARROW_", "DEVICE_", "DJANGO_ALLOW_ASYNC_UNSAFE")
    full = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    env = production_env()
    assert env["ARROW_HTTPS"] == "1"
    env.update(
        SECRET_KEY="k" * 20 + "-production-secret-" + "x" * 40,
        DEVICE_LOOKUP_API_KEY="a-service-key-for-the-check",
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3"),
        ARROW_VAR_DIR=str(tmp_path),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_https_switch_sets_secure_cookies_hsts_and_redirects_people_not_devices(
    settings, staff_user
):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()
    assert client.get("/login/").status_code == 301  # plain HTTP: to HTTPS
    response = client.get("/login/", secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    assert response.cookies["csrftoken"]["secure"]
    login = client.post("/login/", {"username": "staff", "password": "pw-staff-1"}, secure=True)
    assert login.cookies["sessionid"]["secure"]
    # Devices keep plain HTTP: iPXE from the distribution cannot speak HTTPS.
    assert client.get("/pxe/boot.ipxe", {"mac": DOC_MAC}).status_code == 200


def test_the_settings_read_the_https_switch_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {"ARROW_HTTPS": "1", "ARROW_VAR_DIR": str(tmp_path)}
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "True"], result.stderr
    result = manage("shell", "-c", code, env={"ARROW_VAR_DIR": str(tmp_path)})
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False"], result.stderr


def test_a_non_ascii_service_key_is_refused_at_start_up(tmp_path):
    env = {"DEVICE_LOOKUP_API_KEY": "old-key,clé-secrète", "ARROW_VAR_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "non-ASCII" in result.stderr
    assert "clé" not in result.stderr  # the key itself is never printed


# --- chunked bodies -------------------------------------------------------------------------------


def call_chunked(body: bytes, headers: dict[str, str]):
    """/submit through arrow.wsgi.application as gunicorn hands it a chunked request: no
    CONTENT_LENGTH, the de-chunked body on wsgi.input."""
    from arrow.wsgi import application

    environ = RequestFactory()._base_environ(
        PATH_INFO="/api/inventory/submit",
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    environ.update(headers)
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = int(status.split()[0])

    payload = b"".join(application(environ, start_response))
    return seen["status"], json.loads(payload)


@pytest.mark.usefixtures("real_wsgi")
def test_a_chunked_submission_is_read_and_journaled(service_key, demo):
    raw = json.dumps(DOC_SUBMIT).encode()
    status, body = call_chunked(raw, {"HTTP_X_SERVICE_API_KEY": service_key})
    assert status == 200, body
    entry = Submission.objects.get()
    assert bytes(entry.body) == raw
    assert entry.outcome == "accepted"


@pytest.mark.usefixtures("real_wsgi")
def test_a_chunked_body_over_the_limit_is_413_and_journaled_truncated(service_key, demo, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
    raw = json.dumps({"inventory_data": {"hardware": {"x": "y" * 400_000}}}).encode()
    status, body = call_chunked(raw, {"HTTP_X_SERVICE_API_KEY": service_key})
    assert status == 413
    assert body["field"] == "body"
    entry = Submission.objects.get()
    assert entry.outcome == "rejected"
    assert bytes(entry.body) == raw[: len(bytes(entry.body))]
    assert 0 < len(bytes(entry.body)) <= 64 * 1024


# --- admin API deletes are audited ----------------------------------------------------------------


def test_admin_api_deletes_are_audited(admin_client, staff_user):
    org = admin_client.post("/api/organizations", {"name": "Gone Soon"}).json()
    spec = admin_client.post("/api/specs", {"name": "Old Spec"}).json()
    assert admin_client.delete(f"/api/organizations/{org['id']}").status_code == 204
    assert admin_client.delete(f"/api/specs/{spec['id']}").status_code == 204
    deleted = AuditEntry.objects.filter(action="deleted").order_by("id")
    assert [(e.object_type, e.object_id, e.actor) for e in deleted] == [
        ("organization", str(org["id"]), staff_user),
        ("spec", str(spec["id"]), staff_user),
    ]
    assert deleted[0].changes["name"] == ["Gone Soon", None]


def test_a_refused_delete_writes_no_audit_entry(admin_client, demo):
    org = demo["org"]
    assert admin_client.delete(f"/api/organizations/{org.pk}").status_code == 409
    assert not AuditEntry.objects.filter(action="deleted").exists()
