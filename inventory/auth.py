"""Authentication of devices (service key) and of scripts (per-user admin tokens).

The service key is compared in constant time against every configured key (several, so that a
key can be rotated without downtime). With no key configured every service call is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils import timezone
from ninja.security import APIKeyHeader, HttpBearer

from inventory.errors import ServiceKeyNotConfigured
from inventory.models import ApiToken
from inventory.services.pxe import boot_token_check


def service_key_valid(presented: str | None) -> bool:
    """True when *presented* equals one of the configured keys (constant time, fail closed)."""
    keys = settings.DEVICE_LOOKUP_API_KEYS
    if not keys:
        raise ServiceKeyNotConfigured(
            "service_key_not_configured",
            "the server has no DEVICE_LOOKUP_API_KEY configured; service calls are refused",
            field="X-Service-Api-Key",
        )
    if not presented:
        return False
    given = presented.encode("utf-8", errors="surrogateescape")
    matched = False
    for key in keys:
        # Compare against every key, so timing does not tell which slot matched.
        matched |= hmac.compare_digest(given, key.encode("utf-8"))
    return matched


class ServiceKey(APIKeyHeader):
    param_name = "X-Service-Api-Key"

    def authenticate(self, request, key):
        if service_key_valid(key):
            request.arrow_credential = "service_key"
            return "service"
        return None


class BootTokenKey(APIKeyHeader):
    """The per-boot inventory token the boot endpoint hands to one device (submit only)."""

    param_name = "X-Inventory-Token"

    def authenticate(self, request, key):
        row = boot_token_check(key)
        if row is None:
            return None
        request.arrow_credential = "boot_token"
        request.arrow_bound_mac = row.mac
        request.arrow_token_id = row.pk
        return "boot_token"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).hexdigest()


def api_token_create(*, user, name: str = "") -> str:
    """Creates an admin API token for *user*; returns the token, which is never stored."""
    token = f"arrow_{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(user=user, name=name, key_hash=token_hash(token))
    return token


class AdminToken(HttpBearer):
    """`Authorization: Bearer <token>`; the request's user becomes the token's owner."""

    def authenticate(self, request, token):
        row = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=token_hash(token), user__is_active=True)
            .first()
        )
        if row is None:
            return None
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        request.user = row.user
        return row.user
