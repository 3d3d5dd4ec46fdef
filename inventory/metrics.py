"""`/metrics` in Prometheus text format.

Two kinds of numbers. Counts and latencies of check-mac and submit live in the process that
answered; with several gunicorn workers they go through prometheus_client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR, set by `make run`), so any worker's scrape adds up all of them. The
state of the fleet (devices by status, open conflicts, stuck devices, the journal by outcome,
webhook deliveries by outcome and state) is read from the database at each scrape, so it is the
same whichever worker answers.

The endpoint needs `Authorization: Bearer $ARROW_METRICS_TOKEN`; with no token configured it
answers 503 to everyone (fail closed).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from inventory.choices import (
    AttemptOutcome,
    DeliveryState,
    ImagingStatus,
    InventoryStatus,
    SubmissionOutcome,
)
from inventory.models import Device, Submission, WebhookAttempt, WebhookDelivery

CHECK_MAC = Counter(
    "arrow_check_mac",
    "check-mac answers by outcome (needs_inventory, no_inventory, error)",
    ["outcome"],
)
SUBMIT = Counter("arrow_submit", "Inventory submissions answered, by outcome", ["outcome"])
LATENCY = Histogram(
    "arrow_request_duration_seconds",
    "Time to answer check-mac and submit",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class Observation:
    outcome = "error"  # unless the handler says otherwise before it returns


@contextmanager
def observe(endpoint: str, counter: Counter) -> Iterator[Observation]:
    """Times one answer and counts its outcome; an exception counts as the outcome set last
    (a submission's journal outcome) or "error"."""
    seen = Observation()
    started = time.perf_counter()
    try:
        yield seen
    finally:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        counter.labels(seen.outcome).inc()


def _by(field: str, values) -> dict[str, int]:
    counts = dict.fromkeys(values, 0)
    for row in Device.objects.values(field).annotate(n=Count("pk")).order_by():
        counts[row[field]] = row["n"]
    return counts


class FleetCollector:
    """Gauges read from the database at each scrape."""

    def collect(self):
        from inventory.services.timeline import onboarding_live

        devices = GaugeMetricFamily(
            "arrow_devices", "Devices by inventory status", labels=["inventory_status"]
        )
        for status, n in _by("inventory_status", InventoryStatus.values).items():
            devices.add_metric([status], n)
        imaging = GaugeMetricFamily(
            "arrow_devices_imaging", "Devices by imaging status", labels=["imaging_status"]
        )
        for status, n in _by("imaging_status", ImagingStatus.values).items():
            imaging.add_metric([status], n)
        journal = GaugeMetricFamily(
            "arrow_journal_submissions", "Journaled submissions by outcome", labels=["outcome"]
        )
        counts = dict.fromkeys(SubmissionOutcome.values, 0)
        for row in Submission.objects.values("outcome").annotate(n=Count("pk")).order_by():
            counts[row["outcome"]] = row["n"]
        for outcome, n in counts.items():
            journal.add_metric([outcome], n)
        live = onboarding_live(user=None)
        yield devices
        yield imaging
        yield journal
        yield GaugeMetricFamily(
            "arrow_open_conflicts",
            "Submissions waiting for a person to resolve a conflict",
            value=counts[SubmissionOutcome.CONFLICT],
        )
        yield GaugeMetricFamily("arrow_onboarding_devices", "Devices onboarding now", len(live))
        yield GaugeMetricFamily(
            "arrow_stuck_devices", "Devices onboarding with no progress for too long",
            value=sum(1 for row in live if row.stuck),
        )  # fmt: skip


def _counts(model, field: str, values) -> dict[str, int]:
    counts = dict.fromkeys(values, 0)
    for row in model.objects.values(field).annotate(n=Count("pk")).order_by():
        counts[row[field]] = row["n"]
    return counts


class WebhookCollector:
    """Webhook deliveries from the database: the worker is another process, and the delivery
    log is the record of every try (a counter while the log is not pruned)."""

    def collect(self):
        tries = CounterMetricFamily(
            "arrow_webhook_deliveries",
            "Webhook delivery tries by outcome (delivered, retry, failed: given up)",
            labels=["outcome"],
        )
        for outcome, n in _counts(WebhookAttempt, "outcome", AttemptOutcome.values).items():
            tries.add_metric([outcome], n)
        states = GaugeMetricFamily(
            "arrow_webhook_deliveries_by_state", "Webhook deliveries by state", labels=["state"]
        )
        for state, n in _counts(WebhookDelivery, "state", DeliveryState.values).items():
            states.add_metric([state], n)
        yield tries
        yield states


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(FleetCollector())
    registry.register(WebhookCollector())
    return registry


class _ProcessMetrics:
    """This process's own counters (one worker, or the test server)."""

    def collect(self):
        yield from REGISTRY.collect()


def _authorized(request: HttpRequest) -> bool | None:
    """True/False for a presented token; None when no token is configured (refuse all)."""
    token = settings.ARROW_METRICS_TOKEN
    if not token:
        return None
    presented = request.headers.get("Authorization", "")
    scheme, _, value = presented.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(errors="replace"), token.encode())


@login_not_required
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = _authorized(request)
    if allowed is None:
        return HttpResponse(
            "metrics are off: set ARROW_METRICS_TOKEN\n", status=503, content_type="text/plain"
        )
    if not allowed:
        response = HttpResponse(
            "Authorization: Bearer <ARROW_METRICS_TOKEN> required\n",
            status=401,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
