"""POSTs the payload to the backend, retrying what may pass and never what was refused.

Network errors, timeouts and 5xx answers are retried with exponential backoff and jitter until
a deadline; a 4xx answer (or a redirect, which would turn the POST into a GET) is final. Every
attempt and its outcome is one console line. Never prints the authentication headers.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from arrow_agent.config import Backoff


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool
    attempts: int
    status: int | None = None  # HTTP status of the last answer, None for a network error
    detail: str = ""  # the last error or refusal, for the console
    reply: Any = None  # the parsed JSON of a 2xx answer


def post_once(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Outcome:
    """One attempt; classifies the answer. http.client, not urllib.request: it follows no
    redirect and reads no proxy variables (the agent talks to the backend directly), and its
    imports cost the image's boot about 0.2 s less (docs/decisions.md)."""
    parts = urlsplit(url)  # the scheme and host are checked by config
    https = parts.scheme == "https"
    connection_type = http.client.HTTPSConnection if https else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"Content-Type": "application/json", "Accept": "application/json", **headers}
    try:
        connection.request("POST", target, body=body, headers=sent)
        response = connection.getresponse()
        status, raw = response.status, response.read()
    # Socket errors (refused, unreachable, timeout, reset) are OSErrors; HTTPException covers a
    # server that hangs up mid-answer or answers garbage.
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, True, 1, None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if not 200 <= status < 300:
        return _refused(status, response.reason, raw, response.getheader("Location"))
    try:
        reply = json.loads(raw)
    except ValueError:
        reply = raw.decode("utf-8", errors="replace")
    return Outcome(True, False, 1, status, "", reply)


def _refused(status: int, reason: str, raw: bytes, location: str | None) -> Outcome:
    """A non-2xx answer: 5xx may pass later, the rest is final. The start of the body is kept:
    the backend names the refused field there."""
    if 300 <= status < 400:
        said = f"redirected to {location}; set the server to that URL"
    else:
        said = raw[:500].decode("utf-8", errors="replace").strip()
    detail = f"HTTP {status} {reason}" + (f": {said}" if said else "")
    return Outcome(False, status >= 500, 1, status, detail)


STARTED_TIMEOUT_S = 5.0


def announce_started(server: str, headers: Mapping[str, str], say: Callable[[str], None]) -> bool:
    """Tells the backend that the agent runs, before collecting (a step of the boot timeline).
    One short try; a failure is one console line and never stops the inventory."""
    url = f"{server.rstrip('/')}/api/inventory/started"
    outcome = post_once(url, b"{}", headers, STARTED_TIMEOUT_S)
    if not outcome.ok:
        say(f"started: not reported ({outcome.detail}); collecting anyway")
    return outcome.ok


def submit(
    url: str,
    payload: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    deadline: float,
    backoff: Backoff,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    draw: Callable[[], float] = random.random,
) -> Outcome:
    """POST until accepted, refused, or *deadline* seconds have passed."""
    body = json.dumps(payload).encode("utf-8")
    give_up_at = clock() + deadline
    attempt = 0
    while True:
        attempt += 1
        outcome = replace(post_once(url, body, headers, backoff.request_timeout), attempts=attempt)
        if outcome.ok:
            say(f"submit attempt {attempt} to {url}: HTTP {outcome.status}, accepted")
            return outcome
        if not outcome.retryable:
            say(f"submit attempt {attempt} to {url}: {outcome.detail}; not retrying")
            return outcome
        wait = backoff.delay(attempt, draw())
        left = give_up_at - clock()
        if wait > left:
            say(f"submit attempt {attempt} to {url}: {outcome.detail}; giving up (deadline)")
            return outcome
        say(
            f"submit attempt {attempt} to {url}: {outcome.detail}; "
            f"retrying in {wait:.1f} s ({left:.0f} s left)"
        )
        sleep(wait)
