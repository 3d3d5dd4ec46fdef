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
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

SERVICE_PREFIX = "/api/inventory/"


class ServiceMiddleware:
    """For a Django handler class: build the chain from SERVICE_MIDDLEWARE, not MIDDLEWARE.
    (tests/conftest.py mixes it into the test Client's handler, so that device tests run
    through the same chain as production.)"""

    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap it only while this handler is built, once,
        # at import, before any request is served.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.SERVICE_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class ServiceHandler(ServiceMiddleware, WSGIHandler):
    pass


service_application = ServiceHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(SERVICE_PREFIX):
        return service_application(environ, start_response)
    return full_application(environ, start_response)
