"""One application error type. The API turns it into JSON in one handler (arrow/api.py); the
portal turns it into a form error. Codes are stable strings that clients may rely on."""

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


class Unavailable(InventoryError):
    status_code = 503
