"""Rewrites the PXE filter's host files and the Secure Boot chain's GRUB configs from the
database (inventory/services/bootfiles.py); the backend also does this after every change."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inventory.services.bootfiles import bootfiles_sync


class Command(BaseCommand):
    help = "Rewrite the PXE filter (ARROW_DHCP_HOSTS_DIR) and GRUB configs (ARROW_GRUB_DIR)."

    def handle(self, *args, **opts):
        if not (settings.ARROW_DHCP_HOSTS_DIR or settings.ARROW_GRUB_DIR):
            raise CommandError("set ARROW_DHCP_HOSTS_DIR or ARROW_GRUB_DIR: nothing to write")
        changed = bootfiles_sync()
        self.stdout.write(f"boot files: {changed} changed")
