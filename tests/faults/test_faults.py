"""Faults under load, against real processes: gunicorn (as production runs it) on a PostgreSQL
cluster of the test's own, which it stops and whose workers it kills.

The device side is a small client with bounded retries on 503 and connection errors, standing in
for the agent (arrow_agent.submit should replace it once the agent package lands).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from arrow_agent.submit import Backoff
from arrow_agent.submit import submit as agent_submit
from bench.cluster import PgCluster, free_port
from bench.procs import Gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
KEY = "fault-test-key"


def wait_for(what: str, condition, timeout: float = 30.0, interval: float = 0.05):
    """Polls *condition* until it returns something truthy; fails naming what it last saw."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last saw {last!r}")


def mac(n: int) -> str:
    raw = f"{0x02FA00000000 + n:012x}"
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def inventory(n: int) -> dict:
    return {
        "inventory_data": {
            "mac_address": [f"eno1:{mac(2 * n)}", f"wlo1:{mac(2 * n + 1)}"],
            "device_name": f"fault-{n}",
            "serial_number": f"FAULT{n:05d}",
            "device_spec": "Intel NUC 11 Pro",
        }
    }


def post(url: str, body: dict | bytes, timeout: float = 10.0) -> tuple[int, dict | None]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", "X-Service-Api-Key": KEY}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Agent:
    """A booting device: the PXE side's check-mac (retried on 503 and connection errors up to
    *attempts* times), then the inventory agent's own submission loop (arrow_agent.submit: backoff
    with jitter on network errors and 5xx, never on 4xx)."""

    def __init__(self, base: str, attempts: int = 80, pause: float = 0.25):
        self.base, self.attempts, self.pause = base, attempts, pause
        self.answers: list[tuple[int, dict | None]] = []  # every answer, failures included
        self.submit_lines: list[str] = []  # the agent's console lines
        self.lock = threading.Lock()

    def call(self, path: str, body: dict) -> dict:
        for _ in range(self.attempts):
            try:
                status, data = post(self.base + path, body)
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                status, data = 0, {"error": str(exc)}
            with self.lock:
                self.answers.append((status, data))
            if status == 200:
                return data
            if status not in (0, 503):
                raise AssertionError(f"{path} answered {status}: {data}")
            time.sleep(self.pause)  # the agent's back-off between retries
        raise AssertionError(f"{path} still failing after {self.attempts} attempts: {data}")

    def submit(self, n: int) -> dict:
        lines: list[str] = []
        outcome = agent_submit(
            self.base + "/api/inventory/submit",
            inventory(n),
            {"X-Service-Api-Key": KEY},
            deadline=120,
            backoff=Backoff(initial=0.1, maximum=1.0, request_timeout=10),
            say=lines.append,
        )
        with self.lock:
            self.submit_lines.extend(lines)
        assert outcome.ok, "\n".join(lines)
        return outcome.reply

    def boot(self, n: int) -> dict:
        self.call("/api/inventory/check-mac", {"mac_address": mac(2 * n)})
        return self.submit(n)


@pytest.fixture(scope="module")
def cluster():
    """A PostgreSQL cluster of this module's own (never the shared test cluster), migrated."""
    pg = PgCluster(free_port(25460), durable=True)
    url = pg.start()
    env = server_env(url, Path(pg.parent))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    yield pg, url, env
    pg.destroy()


def server_env(url: str, var: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=url,
        DEVICE_LOOKUP_API_KEY=KEY,
        SECRET_KEY="fault-tests-secret",
        ARROW_VAR_DIR=str(var / "var"),
        ARROW_DISCOVER_UNKNOWN="1",
        ARROW_CONN_MAX_AGE="60",
        DJANGO_SETTINGS_MODULE="arrow.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "agent"), str(ROOT)]),
    )
    return env


def devices_of(url: str, macs: list[str]) -> dict[str, str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT mac, device_id FROM inventory_devicemac WHERE mac = ANY(%s)", [macs]
        ).fetchall()
    return dict(rows)


def test_database_outage_answers_503_and_retries_complete_every_inventory(cluster, tmp_path):
    pg, url, env = cluster
    count = 60
    with Gunicorn(
        "arrow.wsgi:application", port=free_port(8700), workers=2, env=env,
        log=tmp_path / "server.log",
    ) as server:  # fmt: skip
        agent = Agent(server.url)
        results: dict[int, dict] = {}

        def boot(n: int) -> None:
            results[n] = agent.boot(n)

        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(boot, n) for n in range(count)]
            wait_for("a third of the devices inventoried", lambda: len(results) >= count // 3)
            pg.stop("immediate")  # as if the database server died
            saw_503 = wait_for(
                "a 503 while the database is down",
                lambda: [a for a in list(agent.answers) if a[0] == 503],
            )
            outage = time.monotonic()
            wait_for("three seconds of outage", lambda: time.monotonic() - outage > 3)
            pg.restart()
            for future in futures:
                future.result(timeout=120)

    body = saw_503[0][1]
    assert body["code"] == "database_unavailable"
    assert "retry" in body["detail"]
    assert {status for status, _ in agent.answers} <= {200, 503, 0}
    # Devices caught between check-mac and submit rode out the outage in the agent's own loop.
    assert any("retrying" in line for line in agent.submit_lines), agent.submit_lines[-5:]
    assert len(results) == count
    with psycopg.connect(url) as conn:
        devices = conn.execute(
            "SELECT count(*) FROM inventory_device WHERE name LIKE 'fault-%%'"
        ).fetchone()[0]
        without_macs = conn.execute(
            "SELECT count(*) FROM inventory_device d WHERE NOT EXISTS "
            "(SELECT 1 FROM inventory_devicemac m WHERE m.device_id = d.id)"
        ).fetchone()[0]
        accepted = dict(
            conn.execute(
                "SELECT device_id, count(*) FROM inventory_submission WHERE outcome = 'accepted' "
                "GROUP BY device_id"
            ).fetchall()
        )
        bad = conn.execute(
            "SELECT count(*) FROM inventory_submission WHERE outcome IN ('rejected', 'conflict')"
        ).fetchone()[0]
    owners = devices_of(url, [mac(i) for i in range(2 * count)])
    assert devices == count  # one device per simulated device: none lost, none doubled
    assert without_macs == 0  # nothing half-written
    assert len(owners) == 2 * count
    for n in range(count):
        assert owners[mac(2 * n)] == owners[mac(2 * n + 1)] == results[n]["device_id"]
    # Each device has its accepted submission. A commit whose answer was lost with the database
    # (the outcome of a COMMIT is unknown to a client whose connection dies) is retried and
    # accepted again as "no change" on the same device: more rows, never another device.
    assert set(accepted) == {results[n]["device_id"] for n in range(count)}
    assert bad == 0  # an interrupted attempt stays 'received'; none is misjudged


def test_worker_killed_mid_submission_leaves_no_partial_device_and_the_journal_row(
    cluster, tmp_path
):
    _, url, env = cluster
    n = 1000
    body = json.dumps(inventory(n)).encode()
    with Gunicorn(
        "arrow.wsgi:application", port=free_port(8710), workers=1, env=env,
        log=tmp_path / "server.log",
    ) as server:  # fmt: skip
        (worker,) = server.worker_pids()
        blocker = psycopg.connect(url)  # holds the second MAC, uncommitted, in its transaction
        blocker.execute(
            "INSERT INTO inventory_device (id, name, hardware_generated_sn, reported_spec, "
            "has_modem, warnings, inventory_status, imaging_status, imaging_error, "
            "flagged_for_inventory, hardware, locked_fields, fails_spec, spec_mismatches, "
            "created_at, updated_at) "
            "VALUES ('dev-blocker', 'blocker', false, '', false, '[]', 'manually_added', "
            "'awaiting_inventory', '', false, '{}', '[]', false, '[]', now(), now())"
        )
        blocker.execute(
            "INSERT INTO inventory_devicemac (device_id, mac, interface, shared) "
            "VALUES ('dev-blocker', %s, '', false)",
            [mac(2 * n + 1)],
        )
        answer: list = []
        client = threading.Thread(
            target=lambda: answer.append(_post_raw(server.url + "/api/inventory/submit", body))
        )
        client.start()
        # The worker has journaled the body, created the device row and now waits for the MAC's
        # unique-index entry inside its transaction: the middle of a submission.
        with psycopg.connect(url, autocommit=True) as watch:
            waiting = wait_for(
                "the worker's transaction to wait on the MAC's index entry",
                lambda: watch.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO \"inventory_devicemac\"%%'"
                ).fetchone(),
            )[0]
            os.kill(worker, signal.SIGKILL)
            blocker.rollback()
            blocker.close()
            wait_for(
                "the killed worker's database session to end",
                lambda: (
                    not watch.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [waiting]
                    ).fetchone()
                ),
            )
        client.join(timeout=30)
        assert answer[0][0] != 200  # the device got no answer, or a broken one

        with psycopg.connect(url) as conn:
            assert devices_of(url, [mac(2 * n), mac(2 * n + 1)]) == {}
            assert conn.execute(
                "SELECT count(*) FROM inventory_device WHERE name = %s", [f"fault-{n}"]
            ).fetchone()[0] == 0  # fmt: skip
            (entry_body, outcome), = conn.execute(
                "SELECT body, outcome FROM inventory_submission WHERE body = %s", [body]
            ).fetchall()  # fmt: skip
        assert bytes(entry_body) == body
        assert outcome == "received"  # journaled, never judged: a person can see it

        # gunicorn replaced the worker; the agent's retry completes the inventory.
        wait_for("a new worker", lambda: server.worker_pids() not in ([], [worker]))
        out = Agent(server.url).submit(n)
    owners = devices_of(url, [mac(2 * n), mac(2 * n + 1)])
    assert set(owners.values()) == {out["device_id"]}


def _post_raw(url: str, body: bytes):
    try:
        return post(url, body, timeout=30)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        return (0, str(exc))
