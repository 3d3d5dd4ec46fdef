"""Middleware both stacks run first (MIDDLEWARE and SERVICE_MIDDLEWARE, see arrow/wsgi.py).

- TrustedProxyMiddleware: behind a proxy listed in ARROW_TRUSTED_PROXIES the client's address
  comes from X-Forwarded-For; REMOTE_ADDR is set to it, so that everything that stores or checks
  a client address (the journal, boot events, ARROW_PXE_ALLOWED_NETWORKS, login throttling)
  sees the client, never nginx.
- HostileInputMiddleware: a NUL or a lone surrogate in the path (404) or the query string (400)
  names nothing the database could compare; refused before any view runs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, JsonResponse

from inventory.services.text import storable_problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(remote: str | None, forwarded_for: str | None) -> str | None:
    """The client's address: *remote* itself, unless *remote* is a trusted proxy; then the
    right-most X-Forwarded-For entry that is not a trusted proxy (a client can put anything on
    the left of that list, only the proxies' own entries are believed)."""
    trusted = _networks(tuple(settings.ARROW_TRUSTED_PROXIES))
    current = _address(remote or "")
    if not trusted or current is None or not any(current in n for n in trusted):
        return remote
    for hop in reversed([h for h in (forwarded_for or "").split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # garbage from the client's side: the last proxy's view stands
        current = address
        if not any(address in n for n in trusted):
            break
    return str(current)


def request_client_address(request: HttpRequest) -> str | None:
    """For libraries that ask (django-axes): the address this middleware settled on."""
    return request.META.get("REMOTE_ADDR")


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        meta = request.META
        if settings.ARROW_TRUSTED_PROXIES:
            meta["ARROW_PROXY_ADDR"] = meta.get("REMOTE_ADDR")
            meta["REMOTE_ADDR"] = client_address(
                meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR")
            )
        return self.get_response(request)


def _bad_parameter(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        if storable_problem(key):
            return "query"
        if any(storable_problem(v) for v in values):
            return key
    return None


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if storable_problem(request.path):
            return self._refuse(request, 404, "path", "no such page")
        field = _bad_parameter(request)
        if field is not None:
            message = f"{field}: contains a NUL character or a lone surrogate"
            return self._refuse(request, 400, field, message)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, status: int, field: str, message: str):
        if request.path.startswith("/api/"):
            code = "not_found" if status == 404 else "invalid_value"
            body = {"code": code, "field": field, "detail": message}
            return JsonResponse(body, status=status)
        if status == 404:
            raise Http404(message)
        raise BadRequest(message)
