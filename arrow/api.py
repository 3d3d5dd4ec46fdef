"""The NinjaAPI: routers, and the one place that turns errors into HTTP responses."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from inventory import metrics
from inventory.api import admin, service
from inventory.errors import BodyTooLarge, InventoryError, Unavailable, validation_failed

log = logging.getLogger("arrow.api")

api = NinjaAPI(
    title="ARROW Auto-Inventory",
    version="1.0",
    description="Service endpoints (X-Service-Api-Key) and the admin API (Bearer token).",
    urls_namespace="api",
)
api.add_router("/inventory", service)
api.add_router("/", admin)


@api.exception_handler(InventoryError)
def inventory_error(request, exc: InventoryError):
    return api.create_response(request, exc.as_dict(), status=exc.status_code)


def _own_loc(loc: tuple) -> tuple:
    """*loc* without ninja's prefix: its source ("body", "query", "path"), and for a body the
    parameter's name (every body here is one schema named ``payload``)."""
    return tuple(loc[2:] if loc[:1] == ("body",) else loc[1:])


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    errors = [{**e, "loc": _own_loc(tuple(e.get("loc", ())))} for e in exc.errors]
    if not errors:
        errors = [{"type": "invalid", "loc": (), "msg": "invalid request"}]
    match = request.resolver_match
    if match is not None and match.view_name == "api:check_mac":
        # Refused by its schema before the handler ran: still a refused check-mac to count.
        metrics.CHECK_MAC.labels("error").inc()
    return inventory_error(request, validation_failed(errors))


@api.exception_handler(AuthenticationError)
def auth_error(request, exc):
    header = "Authorization" if request.path.startswith("/api/inventory/") is False else None
    field = header or "X-Service-Api-Key"
    body = {"code": "unauthorized", "field": field, "detail": f"missing or invalid {field}"}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    if exc.status_code == 400 and exc.__cause__ is not None:
        # Ninja could not parse the body of a typed endpoint (it chains the parser's error).
        cause = exc.__cause__
        code, what = (
            ("too_deep", "JSON is nested too deeply")
            if isinstance(cause, RecursionError)
            else ("invalid_json", f"not valid JSON: {cause}"[:300])
        )
        body = {"code": code, "field": "body", "detail": f"body: {what}"}
        return api.create_response(request, body, status=400)
    body = {"code": "http_error", "field": None, "detail": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request, exc: RequestDataTooBig):
    # Raised when a typed endpoint reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE; submit
    # journals a prefix and answers the same way itself.
    size = request.META.get("CONTENT_LENGTH", "?")
    return inventory_error(request, BodyTooLarge.of(size, settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


@api.exception_handler(DatabaseError)
def database_error(request, exc: DatabaseError):
    if isinstance(exc, OperationalError | InterfaceError):
        log.error("database unavailable: %s", exc.__class__.__name__)
        unavailable = Unavailable(
            "database_unavailable", "the database is unavailable; retry shortly"
        )
        return inventory_error(request, unavailable)
    if isinstance(exc, DataError):
        # The last line of defence: a value PostgreSQL cannot store or compare (NUL, invalid
        # Unicode) that no check closer to its field caught. A 400, never a 500.
        log.warning("data error: %s", exc)
        body = {
            "code": "invalid_value",
            "field": None,
            "detail": "a value cannot be stored by the database (NUL or invalid Unicode)",
        }
        return api.create_response(request, body, status=400)
    raise exc
