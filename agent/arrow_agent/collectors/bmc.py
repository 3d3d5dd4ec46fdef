"""The BMC: its IPMI LAN address and MAC, from ``ipmitool lan print`` over /dev/ipmi0.

Asks only when the kernel shows a BMC system interface (``/dev/ipmi0``, ``/dev/ipmi/0`` or
``/dev/ipmidev/0``); a machine without one gets no entry and no error. The BMC's MAC belongs
to the BMC, not to the host: it is reported here and never joins ``mac_address``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed, parse_guarded
from arrow_agent.macs import is_usable_mac, normalize_mac

NAME = "bmc"
DEVICES = ("/dev/ipmi0", "/dev/ipmi/0", "/dev/ipmidev/0")
_LINE = re.compile(r"^\s*([^:]*?)\s*:\s?(.*?)\s*$")


@dataclass(frozen=True)
class BmcLan:
    """ironic-python-agent's ``bmc_address``/``bmc_mac``, plus how the address was set."""

    bmc_address: str | None = None
    bmc_mac: str | None = None
    ip_source: str | None = None  # "DHCP Address", "Static Address", ...
    netmask: str | None = None
    gateway: str | None = None
    vlan_id: int | None = None


def _address(value: str | None) -> str | None:
    """An IPv4 address; 0.0.0.0 (the BMC has none) is None."""
    try:
        address = ipaddress.IPv4Address(value or "")
    except ValueError:
        return None
    return None if address.is_unspecified else str(address)


def _vlan(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 4095 else None


def parse(text: str) -> Parsed[BmcLan]:
    """``ipmitool lan print`` fields by name, at any indentation; continuation lines (an empty
    name) are skipped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(1):
            fields.setdefault(match.group(1).lower(), match.group(2))
    mac = normalize_mac(fields.get("mac address"))
    lan = BmcLan(
        bmc_address=_address(fields.get("ip address")),
        bmc_mac=mac if mac and is_usable_mac(mac) else None,
        ip_source=fields.get("ip address source") or None,
        netmask=_address(fields.get("subnet mask")),
        gateway=_address(fields.get("default gateway ip")),
        vlan_id=_vlan(fields.get("802.1q vlan id")),
    )
    if "mac address" not in fields:
        return Parsed(lan, ["ipmitool lan print: no MAC Address line; output not understood"])
    return Parsed(lan)


def present() -> bool:
    return any(run.sys_exists(device) for device in DEVICES)


def collect(failures: list[Failure]) -> dict[str, Any]:
    """``{"bmc": {...}}`` when the machine has a BMC interface, else nothing."""
    if not present():
        return {}
    try:
        text = run.run(["ipmitool", "lan", "print"], timeout=20.0)
    except run.RunError as exc:
        failures.append(Failure(NAME, "read", str(exc)))
        return {"bmc": asdict(BmcLan())}
    return {"bmc": asdict(parse_guarded(NAME, parse, text, failures, BmcLan()))}
