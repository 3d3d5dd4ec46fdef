"""The iPXE boot endpoint and the inventory image files.

`GET /pxe/boot.ipxe?mac=${netX/mac}` answers an iPXE script: boot the inventory image, chain to
the imaging target, or exit to the next boot device. Devices have no session: these views are
login-exempt, and may be limited to source networks (ARROW_PXE_ALLOWED_NETWORKS).
"""

from __future__ import annotations

import ipaddress
import logging
import mimetypes
import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_safe

from inventory.choices import BootStep
from inventory.errors import InventoryError
from inventory.ipxe import say as _say
from inventory.ipxe import with_retries
from inventory.services.boot import BootAction
from inventory.services.macs import normalize_mac
from inventory.services.pxe import (
    PxeAnswer,
    boot_progress_check,
    inventory_kernel_args,
    progress_key,
    pxe_boot,
)
from inventory.services.timeline import timeline_progress

log = logging.getLogger(__name__)
IMAGE_FILES = ("vmlinuz", "initrd.img")
IPXE_FILES = ("snponly.efi", "ipxe.efi")  # what UEFI HTTP Boot clients are sent to


def _allowed(remote: str | None) -> bool:
    networks = settings.ARROW_PXE_ALLOWED_NETWORKS
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def _base_url(request: HttpRequest) -> str:
    # The address the device used to reach us (Host header), unless an operator pinned one.
    return settings.ARROW_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def _script(lines: list[str], status: int = 200) -> HttpResponse:
    return HttpResponse(
        "#!ipxe\n" + "\n".join(lines) + "\n", status=status, content_type="text/plain"
    )


def progress_line(base: str, answer: PxeAnswer, step: str) -> str:
    """Reports *step* to /pxe/progress and frees the answer. Never fatal: when the report fails,
    `echo` succeeds, so the retry wrapper's `|| goto` after this line is not taken."""
    url = f"{base}/pxe/progress?mac={answer.mac}&step={step}&key={progress_key(answer.token or '')}"
    return (
        f"imgfetch --name arrow-progress {url} && imgfree arrow-progress"
        f" || echo ARROW: could not report {step} progress (the boot goes on)"
    )


def render_script(answer: PxeAnswer, base: str) -> list[str]:
    head = f"ARROW: {answer.mac}"
    if answer.action is BootAction.INVENTORY:
        args = f"initrd=initrd.img {inventory_kernel_args(base, answer.token or '', answer.mac)}"
        commands = [
            f"kernel {base}/pxe/image/vmlinuz {args}",
            progress_line(base, answer, BootStep.KERNEL),
            f"initrd {base}/pxe/image/initrd.img",
            progress_line(base, answer, BootStep.INITRD),
            "boot",
        ]
        return [
            f"echo {_say(head)} needs inventory ({_say(answer.reason)})",
            "echo ARROW: loading the inventory image...",
            *with_retries(commands, "loading the inventory image", then=[], cleanup=True),
        ]
    if answer.action is BootAction.IMAGING:
        return [
            f"echo {_say(head)} device {_say(answer.device_id or '')} goes to imaging",
            *with_retries(
                [f"chain {answer.chain_url}"],
                "reaching the imaging target",
                then=["exit"],  # the imaging target's script returned: boot the next device
                cleanup=False,
            ),
        ]
    return [
        f"echo {_say(head)}: {_say(answer.reason)} - booting from the next device",
        "exit",
    ]


@login_not_required
@require_GET
def boot_script(request: HttpRequest) -> HttpResponse:
    remote = request.META.get("REMOTE_ADDR")
    if not _allowed(remote):
        return _script(["echo ARROW: this network may not use the boot service", "exit"], 403)
    mac = request.GET.get("mac", "")
    try:
        answer = pxe_boot(mac_text=mac, remote_addr=remote)
    except (OperationalError, InterfaceError):
        return database_unavailable_script(request)
    except InventoryError as exc:
        # iPXE shows the status of a failed fetch; a person with curl reads the body.
        return _script([f"echo ARROW: {_say(exc.field or '')}: {_say(exc.message)}", "exit"], 400)
    return _script(render_script(answer, _base_url(request)))


@login_not_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    """`GET /pxe/progress?mac=..&step=kernel|initrd&key=..`: the boot script reports a download.
    The key is derived from the MAC's live per-boot token (services/pxe.py: progress_key)."""
    remote = request.META.get("REMOTE_ADDR")
    if not _allowed(remote):
        return HttpResponse("this network may not use the boot service\n", status=403)
    step = request.GET.get("step", "")
    if step not in (BootStep.KERNEL, BootStep.INITRD):
        return HttpResponse("step: one of kernel, initrd\n", status=400, content_type="text/plain")
    try:
        mac = normalize_mac(request.GET.get("mac", ""), field="mac")
    except InventoryError as exc:
        return HttpResponse(f"mac: {exc.message}\n", status=400, content_type="text/plain")
    if not boot_progress_check(mac=mac, key=request.GET.get("key", "")):
        return HttpResponse("key: no live boot of this MAC has that key\n", status=401)
    timeline_progress(mac=mac, step=step, remote_addr=remote)
    return HttpResponse("ok\n", content_type="text/plain")


RETRY_SECONDS = 30


def database_unavailable_script(request: HttpRequest) -> HttpResponse:
    """While the database is down: a 200 script (iPXE runs no script from an error answer) that
    waits and asks again, so that a rack powered on during an outage boots once it is back."""
    log.error("boot endpoint: database unavailable; told the device to retry")
    again = f"{_base_url(request)}/pxe/boot.ipxe?mac=${{netX/mac}}"
    return _script(
        [
            f"echo ARROW: the inventory service is unavailable; retrying in {RETRY_SECONDS} s",
            f"sleep {RETRY_SECONDS}",
            f"chain --replace {again} || exit 1",
        ]
    )


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _served_file(request: HttpRequest, name: str, names, directory, missing: str):
    """A file of *names* in *directory*, to a device on an allowed network; 404 otherwise."""
    if name not in names or not _allowed(request.META.get("REMOTE_ADDR")):
        raise Http404(f"no such file {name!r}")
    path = directory / name
    if not path.is_file():
        raise Http404(missing.format(name=name, path=path))
    return _serve(request, path)


@login_not_required
@require_GET
def image_file(request: HttpRequest, name: str) -> HttpResponse:
    """Serves the inventory image in development, with single-range requests (nginx in prod)."""
    missing = "{name} is not built: run make image"
    return _served_file(request, name, IMAGE_FILES, settings.ARROW_IMAGE_DIR, missing)


@login_not_required
@require_safe  # UEFI HTTP Boot asks for the size with HEAD first
def ipxe_file(request: HttpRequest, name: str) -> HttpResponse:
    """Debian's iPXE EFI builds for UEFI HTTP Boot, in development (nginx in production)."""
    missing = "{path} is missing: install Debian's ipxe package"
    return _served_file(request, name, IPXE_FILES, settings.ARROW_IPXE_DIR, missing)


def _serve(request: HttpRequest, path) -> HttpResponse:
    """The file, whole or one byte range of it."""
    name = path.name
    size = path.stat().st_size
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        response = FileResponse(path.open("rb"), content_type=ctype)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(end - start + 1)
    response = HttpResponse(data, status=206, content_type=ctype)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
