"""A webhook receiver on 127.0.0.1 for the tests: a real HTTP server in a thread that fails on
purpose (a 500, or an answer slower than the sender's timeout) for the first tries of each event,
then accepts, and keeps everything it was sent."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    event_id: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """*failures*: what the first tries of each event get, in order ("500" or "timeout"); after
    them every try is accepted (204). *stall_s*: how long a "timeout" answer takes."""

    failures: list[str] = field(default_factory=list)
    stall_s: float = 3.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        event_id = request.headers.get("X-Arrow-Event-Id", "")
        with self.lock:
            tries = sum(1 for r in self.received if r.event_id == event_id)
            plan = self.failures[tries] if tries < len(self.failures) else "accept"
            status = {"500": 500, "timeout": 0}.get(plan, 204)
            self.received.append(
                Received(event_id, dict(request.headers), body, status, time.time())
            )
        if plan == "timeout":
            time.sleep(self.stall_s)  # the sender gave up before this
            status = 204
        try:
            request.send_response(status)
            request.send_header("Content-Length", "0")
            request.end_headers()
        except OSError:
            pass  # the sender hung up (its timeout)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.status == 204]

    def wait_for(self, condition, *, timeout: float = 60.0, what: str = "") -> None:
        """Polls *condition()* until true; fails naming what it last saw."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        with self.lock:
            seen = [(r.event_id, r.status) for r in self.received]
        raise AssertionError(f"receiver: {what or 'condition'} not met in {timeout} s; saw {seen}")
