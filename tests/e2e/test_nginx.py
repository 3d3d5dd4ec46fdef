"""docs/deployment.md's nginx configuration, run as written in Debian's nginx in front of gunicorn.

The block is read from the Markdown, so the documentation cannot drift from what is tested; only
its ports, paths and certificate become the test's own. gunicorn is given an empty image
directory: an image request that reached it would be a 404, so a kernel that arrives whole came
from nginx's disk, and gunicorn's access log shows no image request at all.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.procs import Gunicorn, wait_port
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC_MAC = "00:e0:4c:92:f7:a4"  # the demo's pending request
pytestmark = pytest.mark.slow


def documented_block() -> str:
    text = (ROOT / "docs" / "deployment.md").read_text()
    return re.search(r"```nginx\n(.*?)```", text, re.S).group(1)


def site_config(*, http: int, https: int, upstream: int, srv: Path, cert: Path) -> str:
    swaps = {
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "/srv/arrow/": f"{srv}/",
        "/etc/ssl/arrow/fullchain.pem": str(cert),
        "/etc/ssl/arrow/privkey.pem": str(cert),
    }
    block = documented_block()
    for old, new in swaps.items():
        assert old in block, f"docs/deployment.md's nginx block no longer has {old!r}"
        block = block.replace(old, new)
    return block


def nginx_conf(prefix: Path, site: str) -> str:
    """The main configuration Debian's nginx.conf would be, confined to *prefix*."""
    return f"""daemon off;
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{site}
}}
"""


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


@pytest.fixture
def stack(tmp_path):
    """gunicorn on a demo database, and nginx in front of it with the documented block."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: bash scripts/system-packages.sh test"
    srv = tmp_path / "srv"
    (srv / "image").mkdir(parents=True)
    (srv / "static").mkdir()
    kernel = secrets.token_bytes(3 * 1024 * 1024)
    (srv / "image" / "vmlinuz").write_bytes(kernel)
    (srv / "image" / "initrd.img").write_bytes(kernel[::-1])
    (tmp_path / "empty-images").mkdir()
    cert = tmp_path / "site.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(cert), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    # As production starts it: no PYTHONPATH (make sets one), no test settings.
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    env.update(
        ARROW_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'arrow.sqlite3'}",
        ARROW_IMAGE_DIR=str(tmp_path / "empty-images"),
        DEVICE_LOOKUP_API_KEY="nginx-test-key",
    )
    commands = (
        ["arrow_setup"],
        ["migrate", "--no-input"],
        ["demo_data"],
        ["collectstatic", "--no-input"],
    )
    for command in commands:
        manage(env, *command, "-v", "0")
    ports = {"http": free_port(), "https": free_port(), "upstream": free_port()}
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    site = site_config(
        http=ports["http"], https=ports["https"], upstream=ports["upstream"], srv=srv, cert=cert
    )
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, site))
    test = subprocess.run([nginx, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert test.returncode == 0, test.stderr

    gunicorn_log = tmp_path / "gunicorn.log"
    server = Gunicorn(
        "arrow.wsgi:application", port=ports["upstream"], workers=1, env=env,
        log=gunicorn_log, extra=["--access-logfile", "-"],
    )  # fmt: skip
    proc = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with server:
            wait_port(ports["http"], 30, proc)
            wait_port(ports["https"], 30, proc)
            yield {**ports, "kernel": kernel, "gunicorn_log": gunicorn_log, "prefix": prefix}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def get(url: str, *, data: bytes | None = None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    context = ssl._create_unverified_context()  # noqa: S323 - the test's own self-signed cert
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_device_boots_through_nginx_and_the_image_never_touches_gunicorn(stack):
    base = f"http://127.0.0.1:{stack['http']}"
    status, _, body = get(f"{base}/pxe/boot.ipxe?mac={DOC_MAC}")
    script = body.decode()
    assert status == 200, script
    assert script.startswith("#!ipxe")
    # Host keeps its port: the script sends the device back to this very server.
    assert f"kernel {base}/pxe/image/vmlinuz " in script
    assert f"initrd {base}/pxe/image/initrd.img" in script

    status, headers, kernel = get(f"{base}/pxe/image/vmlinuz")
    assert (status, len(kernel)) == (200, len(stack["kernel"]))
    assert kernel == stack["kernel"]
    assert headers["Content-Type"] == "application/octet-stream"
    status, _, initrd = get(f"{base}/pxe/image/initrd.img")
    assert (status, initrd) == (200, stack["kernel"][::-1])

    log = stack["gunicorn_log"].read_text()
    assert "GET /pxe/boot.ipxe" in log
    assert "/pxe/image/" not in log


def test_the_agent_reaches_the_service_api_on_the_boot_network(stack):
    status, _, body = get(
        f"http://127.0.0.1:{stack['http']}/api/inventory/check-mac",
        data=b'{"mac_address": "00:e0:4c:92:f7:a4"}',
        headers={"Content-Type": "application/json", "X-Service-Api-Key": "nginx-test-key"},
    )
    assert status == 200, body
    assert b'"needs_inventory": true' in body


def test_people_are_sent_to_https_and_the_portal_answers_there(stack):
    status, headers, _ = get(f"http://127.0.0.1:{stack['http']}/login/")
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")
    status, _, body = get(f"https://127.0.0.1:{stack['https']}/login/")
    assert status == 200
    assert b"<form" in body


def test_nginx_refuses_an_oversized_body_before_gunicorn_sees_it(stack):
    status, _, _ = get(
        f"http://127.0.0.1:{stack['http']}/api/inventory/submit",
        data=b"x" * (300 * 1024),
        headers={"Content-Type": "application/json", "X-Service-Api-Key": "nginx-test-key"},
    )
    assert status == 413
    assert "/api/inventory/submit" not in stack["gunicorn_log"].read_text()
