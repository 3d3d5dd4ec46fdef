"""Turns MAC address text into the one spelling the backend stores; knows nothing about NICs.

Canonical form: six lower-case two-digit hex groups separated by colons, ``00:e0:4c:92:f7:a4``.

The one rule for what a MAC is, shared with the backend (inventory/services/macs.py, which parses
with netaddr; a property test holds the two to the same answers): after surrounding blanks,
in any case,
- six groups of 1-2 hex digits separated by ``:`` or by ``-`` (``00:e0:4c:92:f7:a4``;
  ``0:e0:4c:92:f7:a4`` as BSD's arp prints it, leading zeros dropped),
- three groups of 4 separated by ``.``, ``:`` or ``-`` (Cisco ``00e0.4c92.f7a4``, HPE Comware
  ``00e0-4c92-f7a4``),
- two groups of 6 separated by ``:`` or ``-`` (PostgreSQL's ``00e04c:92f7a4``),
- twelve bare hex digits.
No tool prints the last three forms short, so a short group there is a typo, not a MAC; so is
anything else (InfiniBand's 20-byte addresses, EUI-64, numbers).
"""

from __future__ import annotations

import re

_GROUPS = (
    (6, 1, 2, ":-"),
    (3, 4, 4, ".:-"),
    (2, 6, 6, ":-"),
)
_FORMATS = [
    re.compile(sep.join([f"([0-9a-f]{{{lo},{hi}}})"] * n), re.ASCII | re.IGNORECASE)
    for n, lo, hi, seps in _GROUPS
    for sep in (re.escape(s) for s in seps)
]
_BARE = re.compile(r"[0-9a-f]{12}", re.ASCII | re.IGNORECASE)


def normalize_mac(text: str | None) -> str | None:
    """The canonical spelling of the 48-bit MAC in *text*, or None when it is not one."""
    if text is None:
        return None
    value = text.strip()
    if _BARE.fullmatch(value):
        digits = value.lower()
    else:
        match = next((m for m in (f.fullmatch(value) for f in _FORMATS) if m), None)
        if match is None:
            return None
        width = 12 // len(match.groups())
        digits = "".join(group.lower().zfill(width) for group in match.groups())
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_usable_mac(mac: str) -> bool:
    """True for a canonical MAC that can name a NIC: not all zeros, not multicast/broadcast."""
    first = int(mac[:2], 16)
    return mac != "00:00:00:00:00:00" and not first & 1
