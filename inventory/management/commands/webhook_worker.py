"""The webhook worker: delivers the outbox until SIGTERM or SIGINT (services/outbox.py).

`make run` starts one beside gunicorn; a deployment runs it as its own service (one or more:
on PostgreSQL several workers share the outbox without taking the same delivery twice)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from inventory.services.outbox import worker_loop


class Command(BaseCommand):
    help = "Deliver webhook events from the outbox (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll", type=float, default=settings.ARROW_WEBHOOK_POLL_S,
            help="seconds between looks at the outbox when it is empty",
        )  # fmt: skip

    def handle(self, *args, **opts):
        stop = threading.Event()

        def _stop(signum, frame):
            stop.set()  # the delivery under way finishes and is recorded first

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stdout.write("webhook worker started", ending="\n")
        self.stdout.flush()
        worker_loop(
            stop=stop, poll_s=opts["poll"], stuck_scan_s=settings.ARROW_WEBHOOK_STUCK_SCAN_S
        )
        self.stdout.write("webhook worker stopped")
