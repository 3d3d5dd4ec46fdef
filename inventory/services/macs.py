"""Turns MAC text into canonical form and knows which MACs are shared; knows nothing about devices.

Every MAC that enters the system (service API, admin API, portal, demo data, requests) goes through
`normalize_mac`. Canonical form is lowercase, colon-separated: ``aa:bb:cc:dd:ee:ff``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import netaddr
from django.conf import settings

from inventory.errors import InvalidMac
from inventory.services.text import text_problem

# MACs that many machines carry at once. They are kept on a device for reference but never used to
# find a device, and never make two devices one. Operators add to these with ARROW_SHARED_MACS /
# ARROW_SHARED_OUIS (docs/decisions.md lists why each is here).
BUILTIN_SHARED_MACS: frozenset[str] = frozenset(
    {
        "00:00:00:00:00:00",  # unset address
        "ff:ff:ff:ff:ff:ff",  # broadcast
        "00:a0:c6:00:00:00",  # Qualcomm Gobi cellular modems: every unit reports this address
        "02:00:00:00:00:00",  # placeholder reported when the real address is hidden
    }
)
# Whole OUIs (first three octets) whose addresses are reused across units. None is built in: a
# vendor OUI also covers unique NICs, so an operator adds one only for a fleet known to reuse it.
BUILTIN_SHARED_OUIS: frozenset[str] = frozenset()


_CANONICAL = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_SEPARATORS = re.compile(r"[:.-]")


def normalize_mac(value: object, *, field: str = "mac_address") -> str:
    """Canonical ``aa:bb:cc:dd:ee:ff`` of a MAC in any form the one MAC rule accepts (see
    agent/arrow_agent/macs.py): colon, dash, dot (Cisco), PostgreSQL or bare.

    Raises InvalidMac naming *field* and the value for anything else, including EUI-64 and numbers.
    """
    if not isinstance(value, str):
        raise InvalidMac(
            "invalid_mac", f"expected a MAC address as text, got {value!r}", field=field
        )
    if _CANONICAL.fullmatch(value):
        return value  # already canonical, as agents send it: the check-mac hot path
    text = value.strip()
    # The rule (agent/arrow_agent/macs.py states it) is netaddr's EUI-48 text forms, except that
    # only the six-group form may drop leading zeros (netaddr takes "00e0.4c92.f7a", 11 digits).
    groups = _SEPARATORS.split(text)
    if len(groups) < 6 and any(len(group) != 12 // len(groups) for group in groups):
        raise InvalidMac("invalid_mac", f"{value!r} is not a MAC address", field=field)
    try:
        eui = netaddr.EUI(text, version=48, dialect=netaddr.mac_unix_expanded)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise InvalidMac("invalid_mac", f"{value!r} is not a MAC address", field=field) from None
    return str(eui)


MAX_INTERFACE = 64
# Text made only of hex digits and MAC separators: a MAC attempt, never "interface:MAC".
_MAC_LIKE = re.compile(r"^[0-9A-Fa-f]{1,4}([:.-][0-9A-Fa-f]{1,4})+$")


@dataclass(frozen=True)
class ReportedMac:
    """One entry of a submission's ``mac_address``: a canonical MAC and the interface named."""

    mac: str
    interface: str


def parse_reported_mac(text: str, *, field: str) -> ReportedMac:
    """``"eth0:00:e0:4c:92:f7:a4"`` or a bare MAC in any accepted form; InvalidMac naming
    *field* otherwise."""
    try:
        return ReportedMac(mac=normalize_mac(text, field=field), interface="")
    except InvalidMac:
        pass
    if _MAC_LIKE.match(text.strip()):
        # "00:e0:4c:92:f7:a4:11" must not become interface "00" with MAC e0:4c:92:f7:a4:11.
        raise InvalidMac("invalid_mac", f"{text!r} is not a MAC address", field=field)
    iface, sep, rest = text.partition(":")
    if not sep or not iface.strip():
        raise InvalidMac(
            "invalid_mac", f"{text!r} is not 'interface:MAC' nor a MAC address", field=field
        )
    iface = iface.strip()
    if len(iface) > MAX_INTERFACE or text_problem(iface) or " " in iface:
        raise InvalidMac("invalid_interface", f"interface name {iface!r} is not valid", field=field)
    return ReportedMac(mac=normalize_mac(rest, field=field), interface=iface)


@lru_cache(maxsize=1)
def _shared_sets() -> tuple[frozenset[str], frozenset[str]]:
    macs = set(BUILTIN_SHARED_MACS)
    macs.update(normalize_mac(m, field="ARROW_SHARED_MACS") for m in settings.ARROW_SHARED_MACS)
    ouis = set(BUILTIN_SHARED_OUIS)
    for oui in settings.ARROW_SHARED_OUIS:
        ouis.add(normalize_mac(f"{oui.strip()}:00:00:00", field="ARROW_SHARED_OUIS")[:8])
    return frozenset(macs), frozenset(ouis)


def is_shared_mac(mac: str) -> bool:
    """True for a canonical MAC that many machines carry (never identifies a device)."""
    macs, ouis = _shared_sets()
    return mac in macs or mac[:8] in ouis
