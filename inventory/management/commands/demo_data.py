"""Loads the demo data that makes the documentation's examples work verbatim. Idempotent."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from inventory.choices import RequestStatus
from inventory.models import DeviceRequest, DeviceSpec, Organization, RequestMac
from inventory.services.catalog import organization_save, request_save, spec_save

DEMO_MAC = "00:e0:4c:92:f7:a4"


class Command(BaseCommand):
    help = "Create the demo organization, spec, pending request and admin user."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-login", action="store_true", help="do not print the login")

    @transaction.atomic
    def handle(self, *args, **options):
        org = Organization.objects.filter(name="Demo Org").first() or organization_save(
            name="Demo Org", slug="demo-org"
        )
        if not DeviceSpec.objects.filter(name="Intel NUC 11 Pro").exists():
            spec_save(
                name="Intel NUC 11 Pro",
                name_patterns=["*NUC11TN*"],
                capabilities={"cpu": "Intel Core i5-1135G7", "cores": 4, "ram_gb": 16},
            )
        if not RequestMac.objects.filter(mac=DEMO_MAC).exists():
            request_save(
                organization=org,
                target_macs=[DEMO_MAC],
                spec="Intel NUC 11 Pro",
                status=RequestStatus.PENDING,
                note="Demo: the device of the documentation's examples",
            )
        self.stdout.write(
            f"demo data: organization {org.name!r}, {DeviceSpec.objects.count()} spec(s), "
            f"{DeviceRequest.objects.count()} request(s)"
        )
        password = self._admin_password()
        if not options["quiet_login"]:
            self.stdout.write(f"admin login: admin / {password}")

    def _admin_password(self) -> str:
        """ARROW_ADMIN_PASSWORD when set; else the one generated on the first run (var/)."""
        path = settings.VAR_DIR / "admin_password"
        wanted = os.environ.get("ARROW_ADMIN_PASSWORD", "")
        if not wanted:
            if path.exists():
                wanted = path.read_text().strip()
            else:
                wanted = secrets.token_urlsafe(12)
                settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(wanted + "\n")
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if not user.check_password(wanted):
            user.set_password(wanted)
            user.is_staff = user.is_superuser = True
            user.save()
        return wanted
