"""Serializes work on one device identity across concurrent transactions.

Two devices booting at once with the same MAC (or the same serial and different MACs) must never
both find "no device" and create two. On PostgreSQL each identity key (a MAC, a serial) takes a
transaction-scoped advisory lock, in sorted order so that two submissions cannot deadlock. SQLite
serializes writers already (transactions start IMMEDIATE, see settings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection


def _key(text: str) -> int:
    # 63-bit signed integer from a stable hash: pg_advisory_xact_lock takes a bigint.
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_identities(keys: Iterable[str]) -> None:
    """Blocks until this transaction holds the lock of every key; released at commit/rollback."""
    if connection.vendor != "postgresql":
        return
    ordered = sorted({_key(k) for k in keys})
    if not ordered:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [ordered]
        )
