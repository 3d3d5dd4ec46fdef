"""WSGI entry point for gunicorn.

Devices and people get different middleware. The service endpoints (/api/inventory/, what a
rack calls at power-on) authenticate with the service key and never use sessions, cookies,
messages, CSRF or logins, so they run on a handler with only SERVICE_MIDDLEWARE; everything
else (portal, admin API, Django admin, static files) runs on the full stack. Measured: the full
stack is about a quarter of check-mac's CPU in Django (90 of 370 us per request).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrow.settings")
full_application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after get_wsgi_application configured Django
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

SERVICE_PREFIX = "/api/inventory/"


class ServiceMiddleware:
    """For a synchronous Django handler class: build the chain from SERVICE_MIDDLEWARE instead of
    MIDDLEWARE, without touching the settings. (tests/conftest.py mixes it into the test
    Client's handler, so that device tests run through the same chain as production.)

    Django's own load_middleware reads settings.MIDDLEWARE with no way to pass another list;
    this builds the same chain (every hook: process_view, process_template_response,
    process_exception; MiddlewareNotUsed honoured) for a WSGI server, which is synchronous."""

    middleware_setting = "SERVICE_MIDDLEWARE"

    def load_middleware(self, is_async=False):
        if is_async:
            raise ImproperlyConfigured("the service handler is for WSGI (synchronous) only")
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(getattr(settings, self.middleware_setting)):
            instance = self._instantiate(path, handler)
            if instance is not None:
                self._add_hooks(instance)
                handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    @staticmethod
    def _instantiate(path: str, get_response):
        try:
            instance = import_string(path)(get_response)
        except MiddlewareNotUsed:
            return None
        if instance is None:
            raise ImproperlyConfigured(f"Middleware factory {path} returned None.")
        return instance

    def _add_hooks(self, instance) -> None:
        # The same order as Django's: view hooks outermost first, the others innermost first.
        if hasattr(instance, "process_view"):
            self._view_middleware.insert(0, instance.process_view)
        if hasattr(instance, "process_template_response"):
            self._template_response_middleware.append(instance.process_template_response)
        if hasattr(instance, "process_exception"):
            self._exception_middleware.append(instance.process_exception)


class ServiceHandler(ServiceMiddleware, WSGIHandler):
    pass


service_application = ServiceHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(SERVICE_PREFIX):
        return service_application(environ, start_response)
    return full_application(environ, start_response)
