"""The bare baseline: check-mac as a WSGI app with no framework, for the benchmark to compare with.

It does what check-mac's hot path must do and nothing else: check the service key, read the JSON
body, put the MAC in canonical form, run the very statement `inventory.services.boot` runs (as a
psycopg prepared statement on one connection per worker) and answer JSON. The ratio of our
check-mac throughput to this app's is the figure the benchmark tracks; absolute times vary from
machine to machine.

    gunicorn bench.baseline:application   (DATABASE_URL and DEVICE_LOOKUP_API_KEY in the env)
"""

from __future__ import annotations

import hmac
import json
import os

import psycopg
from psycopg.rows import dict_row

from arrow_agent.macs import normalize_mac  # the one MAC rule, in its stdlib spelling

# The statement itself is imported, not copied, so the comparison stays honest when it changes.
# Importing the module pulls in a few Django names but configures nothing and runs nothing of it.
from inventory.services.boot import _STATE_SQL

_KEY = os.environ.get("DEVICE_LOOKUP_API_KEY", "").encode()
_conn: psycopg.Connection | None = None


def _connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(
            os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=0, row_factory=dict_row
        )  # rows by column name, as boot.py reads them: a new column cannot shift the others
    return _conn


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def application(environ, start_response):
    given = environ.get("HTTP_X_SERVICE_API_KEY", "").encode()
    if not _KEY or not hmac.compare_digest(given, _KEY):
        return _answer(start_response, "401 Unauthorized", {"detail": "bad key"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        mac = normalize_mac(json.loads(environ["wsgi.input"].read(length))["mac_address"])
    except (ValueError, KeyError, TypeError, AttributeError):
        mac = None
    if mac is None:
        return _answer(start_response, "400 Bad Request", {"field": "mac_address"})
    row = _connection().execute(_STATE_SQL, [mac, mac], prepare=True).fetchone()
    device_id, request_id = row["device_id"], row["request_id"]
    held = row["flagged"] or not row["inventoried"]
    needs = request_id is not None or (device_id is not None and held)
    body = {
        "needs_inventory": needs,
        "device_id": device_id,
        "organization": row["device_org"] or row["request_org"],
    }
    return _answer(start_response, "200 OK", body)
