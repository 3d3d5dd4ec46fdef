"""Keeps the boot files (inventory/services/bootfiles.py) current: after a transaction that
changed a request, a device or their MACs commits, the files are rewritten once."""

from __future__ import annotations

import logging
import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from inventory.models import Device, DeviceMac, DeviceRequest, RequestMac

log = logging.getLogger(__name__)
_pending = threading.local()


def _sync() -> None:
    from inventory.services.bootfiles import bootfiles_sync

    _pending.scheduled = False
    try:
        bootfiles_sync()
    except OSError:  # the files are a cache of the database: `arrow_boot_files` rewrites them
        log.exception("boot files: rewrite failed; run manage.py arrow_boot_files")


@receiver([post_save, post_delete], sender=DeviceRequest)
@receiver([post_save, post_delete], sender=RequestMac)
@receiver([post_save, post_delete], sender=Device)
@receiver([post_save, post_delete], sender=DeviceMac)
def boot_inputs_changed(sender, **kwargs) -> None:
    from django.conf import settings

    if not (settings.ARROW_DHCP_HOSTS_DIR or settings.ARROW_GRUB_DIR):
        return
    if getattr(_pending, "scheduled", False):
        return
    _pending.scheduled = True
    transaction.on_commit(_sync)
