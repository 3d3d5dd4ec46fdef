"""Every application error type, with its HTTP status. The API turns them into JSON in one handler
(arrow/api.py); the portal turns them into form errors. A service raises the type that states the
failure (never changes a status after raising). Codes are stable strings that clients rely on."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Sequence
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


def field_path(loc: Sequence[str | int]) -> str:
    """The field a location names, as errors spell it: ``inventory_data.mac_address[1]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _json_kind(value: Any) -> str:
    """What a decoded JSON value was, in JSON's words."""
    for kind, name in ((bool, "a boolean"), (int | float, "a number"), (str, "a string")):
        if isinstance(value, kind):
            return name
    kinds = {type(None): "null", list: "a list", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    return reprlib.repr(value)[:60]


# pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) as our codes
# and messages; a rule of ours raises PydanticCustomError with its own code (inventory/schemas.py).
_PYDANTIC: dict[str, tuple[str, str]] = {
    "missing": ("required", "is required"),
    "extra_forbidden": ("unknown_field", "unknown field"),
    "string_type": ("type", "must be a string"),
    "bool_type": ("type", "must be true or false"),
    "int_type": ("type", "must be an integer"),
    "list_type": ("type", "must be a list"),
    "dict_type": ("type", "must be an object"),
    "model_type": ("type", "must be an object"),
    "model_attributes_type": ("type", "must be an object"),
    "string_unicode": ("invalid_unicode", "is not valid Unicode (a lone UTF-16 surrogate)"),
    "string_too_long": ("too_long", "longer than {max_length} characters"),
    "too_long": ("too_many", "{actual_length} items; at most {max_length} are accepted"),
    "too_short": ("required", "at least {min_length} item(s) are required"),
}


def _from_pydantic(error: dict[str, Any]) -> dict[str, str]:
    ctx = error.get("ctx") or {}
    # A rule on a whole list or object names the item at fault below it in ctx["at"].
    field = field_path((*error["loc"], *ctx.get("at", ())))
    if error["type"] not in _PYDANTIC:
        return {"field": field, "code": error["type"], "message": error["msg"]}
    code, message = _PYDANTIC[error["type"]]
    message = message.format(**ctx)
    if "input" in error:  # ninja drops it from the errors of the bodies it validates
        value = error["input"]
        named = bool(error["loc"]) and isinstance(error["loc"][-1], str)
        if value is None and named and error["type"].endswith("_type"):
            # A field given as null is missing (an item of a list given as null is of a wrong type).
            code, message = "required", "is required, got null"
        elif error["type"] == "bool_type":
            message += f", got {_short(value)}"
        elif error["type"].endswith("_type"):
            message += f", got {_json_kind(value)}"
    return {"field": field, "code": code, "message": message}


def validation_failed(errors: Iterable[dict[str, Any]]) -> ValidationFailed:
    """The one ValidationFailed of pydantic's *errors* (``ValidationError.errors()``), each named by
    its field path; the caller strips any prefix of its own from ``loc`` first."""
    return ValidationFailed([_from_pydantic(e) for e in errors])


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
