"""/metrics behind `make run` with two gunicorn workers: counts add up across workers, the fleet
gauges equal the database, and the endpoint refuses a scrape without the token."""

from __future__ import annotations

import os
import sqlite3
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_make_run import call, free_port, start, stop

TOKEN = "metrics-token-e2e"
CHECKS = 24


def scrape(port: int, token: str | None = TOKEN) -> tuple[int, str, dict[tuple, float]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), {}
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return status, text, samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_add_up_across_two_workers_and_match_the_database(tmp_path):
    var_dir = tmp_path / "var"
    port = free_port()
    proc, _ = start(var_dir, port, workers=2, ARROW_METRICS_TOKEN=TOKEN)
    try:
        key = (var_dir / "device_lookup_api_key").read_text().strip()

        def check(n: int) -> int:
            body = {"mac_address": f"02:00:00:00:10:{n:02x}"}
            return call(port, "/api/inventory/check-mac", body, key)[0]

        # Concurrent, so that both sync workers answer some (a busy one cannot accept).
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(check, range(CHECKS))) == {200}
        for n in range(3):
            body = {"inventory_data": {"mac_address": [f"eth0:02:00:00:00:20:{n:02x}"],
                                       "serial_number": f"SN-METRICS-{n}"}}  # fmt: skip
            status, out = call(port, "/api/inventory/submit", body, key)
            assert status == 200, out
        bad = {"inventory_data": {"mac_address": ["not a mac"]}}
        assert call(port, "/api/inventory/submit", bad, key)[0] == 400

        for _ in range(6):  # several scrapes, answered by either worker: always the same sums
            status, text, samples = scrape(port)
            assert status == 200, text
            assert value(samples, "arrow_check_mac_total", outcome="no_inventory") == CHECKS
            assert value(samples, "arrow_submit_total", outcome="accepted") == 3
            assert value(samples, "arrow_submit_total", outcome="rejected") == 1
            timed = "arrow_request_duration_seconds_count"
            assert value(samples, timed, endpoint="check_mac") == CHECKS
            assert value(samples, timed, endpoint="submit") == 4
        db = sqlite3.connect(var_dir / "arrow.sqlite3")
        for status_name, count in db.execute(
            "select inventory_status, count(*) from inventory_device group by 1"
        ):
            assert value(samples, "arrow_devices", inventory_status=status_name) == count
        (journal_rejected,) = db.execute(
            "select count(*) from inventory_submission where outcome = 'rejected'"
        ).fetchone()
        assert value(samples, "arrow_journal_submissions", outcome="rejected") == journal_rejected
        assert value(samples, "arrow_stuck_devices") == 0
        assert ("arrow_open_conflicts", ()) in samples
        db.close()
        workers = os.listdir(var_dir / "prometheus")
        assert len({name.rsplit("_", 1)[-1] for name in workers}) >= 2, workers  # both counted

        assert scrape(port, token=None)[0] == 401
        assert scrape(port, token="wrong")[0] == 401
    finally:
        stop(proc)
