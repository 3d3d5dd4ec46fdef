"""Every application error type, with its HTTP status. The API turns them into JSON in one handler
(arrow/api.py); the portal turns them into form errors. A service raises the type that states the
failure (never changes a status after raising). Codes are stable strings that clients rely on."""

from __future__ import annotations

from typing import Any


class InventoryError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "field": self.field, "detail": self.message}
        data.update(self.extra)
        return data


class ValidationFailed(InventoryError):
    """Bad input; *errors* lists every problem found as {field, code, message}."""

    status_code = 400

    def __init__(self, errors: list[dict[str, str]]):
        first = errors[0]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(first["code"], message, field=first["field"], errors=errors)


class Forbidden(InventoryError):
    status_code = 403


class NotFound(InventoryError):
    status_code = 404


class Conflict(InventoryError):
    status_code = 409


class BodyTooLarge(InventoryError):
    """A body over the configured size; its first bytes are journaled."""

    status_code = 413

    @classmethod
    def of(cls, size: object, limit: int, **extra: Any) -> BodyTooLarge:
        """The one 413: *size* bytes sent, *limit* accepted (*extra*: what the journal kept)."""
        return cls(
            "body_too_large",
            f"the body has {size} bytes; at most {limit} are accepted",
            field="body",
            limit=limit,
            **extra,
        )


class InvalidMac(InventoryError):
    """Text that is not a MAC address in any accepted form (inventory/services/macs.py)."""

    status_code = 400


class Unavailable(InventoryError):
    """The server cannot answer now (a missing setting, a database down): the client retries."""

    status_code = 503


class ServiceKeyNotConfigured(Unavailable):
    """No service key is configured: every service call is refused (fail closed)."""
