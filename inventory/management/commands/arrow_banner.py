"""Prints what an operator needs after `make run`: the URL, the admin login and the service key."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the portal URL, admin login and service key of this installation."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")

    def handle(self, *args, bind, **options):
        host, _, port = bind.rpartition(":")
        host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 - only displayed
        self.stdout.write("")
        self.stdout.write(f"ARROW Auto-Inventory on http://{host}:{port}/")
        call_command("demo_data", stdout=self.stdout)
        key = settings.DEVICE_LOOKUP_API_KEYS[0] if settings.DEVICE_LOOKUP_API_KEYS else "(none)"
        self.stdout.write(f"service key (X-Service-Api-Key): {key}")
        self.stdout.write(f"API docs: http://{host}:{port}/api/docs")
        self.stdout.write("")
