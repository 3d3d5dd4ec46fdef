"""Fixtures for the agent's integration tests: a fake NUC to replay, and a real HTTP backend
stand-in on 127.0.0.1 that answers from a script of status codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from arrow_agent import run
from tests.fakeroot import FakeRoot, nuc

REPLY = {
    "device_id": "7f1c2a9e",
    "status": "newly_inventoried",
    "device_spec": "Intel NUC 11 Pro",
    "organization": "Lab North",
    "imaging_status": "ready_for_imaging",
}


@pytest.fixture
def machine(tmp_path) -> Iterator[FakeRoot]:
    """A fake NUC under tmp_path for --root; run's root is reset afterwards."""
    yield nuc(FakeRoot(tmp_path / "machine"))
    run.set_root(None)


class Backend:
    """Answers POSTs with the next status of *statuses* (the last one repeats) and keeps
    every request's path, headers and JSON body."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                backend.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                status = (
                    backend.statuses.pop(0) if len(backend.statuses) > 1 else backend.statuses[0]
                )
                if status == 200:
                    raw = json.dumps(REPLY).encode()
                elif 300 <= status < 400:
                    raw = b""
                else:
                    raw = json.dumps({"code": "invalid", "field": "mac_address[0]"}).encode()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "https://arrow.example/api/inventory/submit")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def backend() -> Iterator[Callable[[list[int]], Backend]]:
    """Starts Backend(statuses) servers on demand and stops them all at the end."""
    started: list[Backend] = []

    def start(statuses: list[int]) -> Backend:
        server = Backend(statuses)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
