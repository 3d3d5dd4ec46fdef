"""Turns MAC address text into the one spelling the backend stores; knows nothing about NICs.

Canonical form: six lower-case two-digit hex groups separated by colons, ``00:e0:4c:92:f7:a4``.
Accepted input: colon- or dash-separated groups of one or two hex digits, Cisco-style dotted
groups of four (``00e0.4c92.f7a4``), or twelve bare hex digits, in any case, with surrounding
blanks. Anything else (InfiniBand's 20-byte addresses included) is not a MAC and gives None.
"""

from __future__ import annotations

import re

_HEX = frozenset("0123456789abcdef")


def normalize_mac(text: str | None) -> str | None:
    """The canonical spelling of the 48-bit MAC in *text*, or None when it is not one."""
    if text is None:
        return None
    value = text.strip().lower()
    if "." in value:
        groups = value.split(".")
        digits = "".join(groups) if len(groups) == 3 and all(len(g) == 4 for g in groups) else ""
    elif ":" in value or "-" in value:
        groups = re.split(r"[:-]", value)
        ok = len(groups) == 6 and all(1 <= len(g) <= 2 for g in groups)
        digits = "".join(g.zfill(2) for g in groups) if ok else ""
    else:
        digits = value
    if len(digits) != 12 or not set(digits) <= _HEX:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_usable_mac(mac: str) -> bool:
    """True for a canonical MAC that can name a NIC: not all zeros, not multicast/broadcast."""
    first = int(mac[:2], 16)
    return mac != "00:00:00:00:00:00" and not first & 1
