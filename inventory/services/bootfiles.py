"""Files the backend keeps current for boot paths that cannot ask it over HTTP.

- The PXE filter (ARROW_DHCP_HOSTS_DIR): one file per MAC in the `dhcp-hostsdir` the product's
  dnsmasq watches, `MAC` when the backend wants that machine to boot (inventory or imaging) and
  `MAC,ignore` otherwise, as Ironic's inspector does. dnsmasq reads new and changed files at
  once (inotify) but never forgets a record whose file was removed, so a MAC is switched off by
  rewriting its file, never by deleting it.
- The Secure Boot chain (ARROW_GRUB_DIR): Debian's signed GRUB speaks TFTP only, so the boot
  decision boot.ipxe makes reaches it as `mac-<mac>.cfg` beside grub/grub.cfg, which sources it.
  A file exists only for MACs that boot the inventory image; the others find none and GRUB
  exits to the next boot device.

`bootfiles_sync()` rewrites both from the database; a change to a request, a device or their
MACs calls it after the transaction commits (inventory/signals.py), and
`manage.py arrow_boot_files` runs it by hand.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings

from inventory.ipxe import say
from inventory.models import DeviceMac, RequestMac
from inventory.services.boot import BootAction, BootDecision, boot_state, decide_boot
from inventory.services.pxe import boot_token_issue, inventory_kernel_args

log = logging.getLogger(__name__)
GRUB_PREFIX = "mac-"


def _write(path: Path, text: str) -> bool:
    """Replace *path* atomically when its text changes (dnsmasq sees one complete file)."""
    if path.is_file() and path.read_text() == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".arrow-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)  # dnsmasq reads it as an unprivileged user
    os.replace(tmp, path)
    return True


def candidate_macs() -> set[str]:
    """Every MAC the backend might want to boot: open request targets and devices' own MACs."""
    macs = set(RequestMac.objects.filter(open=True).values_list("mac", flat=True))
    macs |= set(DeviceMac.objects.filter(shared=False).values_list("mac", flat=True))
    return macs


def wants_boot(decision: BootDecision) -> bool:
    return decision.action in (BootAction.INVENTORY, BootAction.IMAGING)


def filter_line(mac: str, decision: BootDecision) -> str:
    return f"{mac}\n" if wants_boot(decision) else f"{mac},ignore\n"


def grub_config(mac: str, decision: BootDecision, server: str) -> str:
    """GRUB commands that boot the inventory image over TFTP (paths under the TFTP root)."""
    token = boot_token_issue(mac=mac)
    args = inventory_kernel_args(server, token, mac)
    return "\n".join(
        [
            f'echo "ARROW: {say(mac)} needs inventory ({say(decision.reason)})"',
            'echo "ARROW: loading the inventory image over TFTP..."',
            f"linux /vmlinuz {args}",
            "initrd /initrd.img",
            "boot",
            "",
        ]
    )


def _sync_filter(directory: Path, decisions: dict[str, BootDecision]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    known = {p.name.replace("-", ":") for p in directory.iterdir() if not p.name.startswith(".")}
    changed = 0
    for mac in sorted(known | set(decisions)):
        decision = decisions.get(mac)
        text = filter_line(mac, decision) if decision else f"{mac},ignore\n"
        changed += _write(directory / mac.replace(":", "-"), text)
    return changed


def _sync_grub(directory: Path, decisions: dict[str, BootDecision]) -> int:
    server = settings.ARROW_PUBLIC_URL
    if not server:
        log.error("boot files: ARROW_PUBLIC_URL is empty; GRUB configs need the backend's URL")
        return 0
    changed = 0
    wanted = set()
    for mac, decision in sorted(decisions.items()):
        if decision.action is BootAction.INVENTORY:
            wanted.add(f"{GRUB_PREFIX}{mac}.cfg")
            changed += _write(
                directory / f"{GRUB_PREFIX}{mac}.cfg", grub_config(mac, decision, server)
            )
    for stale in directory.glob(f"{GRUB_PREFIX}*.cfg"):
        if stale.name not in wanted:
            stale.unlink()
            changed += 1
    return changed


def bootfiles_sync() -> int:
    """Rewrites the PXE filter and the GRUB configs that are switched on; files changed."""
    hosts_dir, grub_dir = settings.ARROW_DHCP_HOSTS_DIR, settings.ARROW_GRUB_DIR
    if not hosts_dir and not grub_dir:
        return 0
    decisions = {mac: decide_boot(boot_state(mac)) for mac in candidate_macs()}
    changed = 0
    if hosts_dir:
        changed += _sync_filter(Path(hosts_dir), decisions)
    if grub_dir:
        changed += _sync_grub(Path(grub_dir), decisions)
    return changed
