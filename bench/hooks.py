"""Webhook delivery during the mass boot: a receiver on 127.0.0.1 that accepts every event and
notes when it arrived, the worker as production runs it (`manage.py webhook_worker`), and the
figures: events per second from the first change to the last arrival, and the worst lag from
an event's change to its arrival."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


class Sink:
    """Accepts every POST (204) and keeps (event id, the event's time, arrival time)."""

    def __init__(self):
        self.arrivals: list[tuple[str, float, float]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                created = datetime.fromisoformat(json.loads(body)["created_at"]).timestamp()
                with sink.lock:
                    sink.arrivals.append((self.headers["X-Arrow-Event-Id"], created, time.time()))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Sink:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """One `manage.py webhook_worker`, stopped with SIGTERM."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log

    def __enter__(self) -> Worker:
        self.out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "webhook_worker", "--poll", "0.2"],
            cwd=ROOT, env=self.env, stdout=self.out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.out.close()


def pending(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM inventory_webhookdelivery WHERE state = 'pending'"
        ).fetchone()
    return n


def wait_delivered(db_url: str, *, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pending(db_url) == 0:
            return True
        time.sleep(0.2)
    return False


def figures(sink: Sink, db_url: str, *, drained: bool) -> dict:
    """What was written, what arrived, how fast and how late."""
    with psycopg.connect(db_url) as conn:
        (events,) = conn.execute("SELECT count(*) FROM inventory_webhookevent").fetchone()
    with sink.lock:
        arrivals = list(sink.arrivals)
    unique = {event_id for event_id, _, _ in arrivals}
    if arrivals:
        first = min(created for _, created, _ in arrivals)
        last = max(at for _, _, at in arrivals)
        rate = len(unique) / max(last - first, 1e-6)
        worst = max(at - created for _, created, at in arrivals)
    else:
        rate = worst = 0.0
    return {
        "events": events,
        "arrived": len(unique),
        "repeats": len(arrivals) - len(unique),
        "missing": events - len(unique),
        "drained": drained,
        "events_per_second": round(rate, 1),
        "worst_lag_s": round(worst, 2),
    }
