"""Generates the secrets a fresh installation needs and keeps them under var/ (mode 0600).

SECRET_KEY and DEVICE_LOOKUP_API_KEY are generated once when the environment does not set them;
later runs reuse the stored values, so devices keep their key across restarts.
"""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand


def ensure_secret(name: str, factory) -> bool:
    """Writes var/<name> unless the environment sets *name* or the file exists. True if written."""
    if os.environ.get(name):
        return False
    path = settings.VAR_DIR / name.lower()
    if path.exists() and path.read_text().strip():
        return False
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(factory() + "\n")
    return True


class Command(BaseCommand):
    help = "Generate and persist SECRET_KEY and DEVICE_LOOKUP_API_KEY under var/ when unset."

    def handle(self, *args, **options):
        for name, factory in (
            ("SECRET_KEY", lambda: secrets.token_urlsafe(50)),
            ("DEVICE_LOOKUP_API_KEY", lambda: secrets.token_urlsafe(32)),
        ):
            if ensure_secret(name, factory):
                self.stdout.write(f"generated {name} in {settings.VAR_DIR / name.lower()}")
