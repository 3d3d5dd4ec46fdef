"""Cellular modems: whether the device has one, and its IMEI.

ModemManager is asked first (``mmcli -L -K``, then ``mmcli -m N -K`` for each modem). It finds
modems some time after boot, so when the kernel shows modem hardware the agent polls
``mmcli -L`` until a deadline and then says "no modem from ModemManager after N s" explicitly.
No mmcli at all (the default image) is no collection error.
Without ModemManager, sysfs decides ``has_modem``: ``wwan*`` interfaces, ``/sys/class/wwan``,
or a USB/PCI interface bound to a modem driver (cdc_ncm only next to a cdc-wdm control port, as
USB Ethernet adapters use it too). When there is a modem but ModemManager gave no IMEI, the
modem's AT ports are asked (``atport``): IMEI, IMSI, ICCID, model and firmware revision. An IMEI
is sent only when it is exactly 15 digits; one that fails the Luhn check is sent anyway, with a
warning.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed, atport, mbim, parse_guarded

NAME = "modem"

POLL_INTERVAL_S = 2.0

# Drivers that only ever bind to modems, by the bus whose drivers/ directory lists them.
MODEM_DRIVERS = {
    "usb": ("qmi_wwan", "cdc_mbim", "option", "sierra", "sierra_net", "qcserial", "huawei_cdc_ncm"),
    "pci": ("mhi-pci-generic",),
    "mhi": ("mhi_net", "mhi_wwan_ctrl", "mhi_wwan_mbim"),
}
# Bound to modems and to USB Ethernet adapters alike: a modem only next to a cdc-wdm port.
AMBIGUOUS_DRIVERS = ("cdc_ncm",)

_MODEM_PATH = re.compile(r"/org/freedesktop/ModemManager1/Modem/(\d+)")

# mmcli human-readable layout: (section, label) -> the -K key it stands for.
_HUMAN_KEYS = {
    ("Hardware", "manufacturer"): "modem.generic.manufacturer",
    ("Hardware", "model"): "modem.generic.model",
    ("Hardware", "equipment id"): "modem.generic.equipment-identifier",
    ("3GPP", "imei"): "modem.3gpp.imei",
}
# Where the IMEI is, best first: 3GPP modems report it in both, CDMA ones only an ESN/MEID.
IMEI_KEYS = ("modem.3gpp.imei", "modem.generic.equipment-identifier")


@dataclass(frozen=True)
class Modem:
    index: int
    manufacturer: str | None = None
    model: str | None = None
    imei: str | None = None


@dataclass(frozen=True)
class ModemFacts:
    has_modem: bool = False
    imei: str | None = None
    source: str = "none"  # "mmcli", "sysfs" (has_modem only), "at" or "mbim" (the IMEI's port)
    evidence: list[str] = field(default_factory=list)  # what sysfs showed
    modems: list[Modem] = field(default_factory=list)
    at_ports: list[atport.AtFacts] = field(default_factory=list)  # what the AT ports said
    mbim_ports: list[atport.AtFacts] = field(default_factory=list)  # what the MBIM ports said

    def as_hardware(self) -> dict[str, object]:
        ports = self.at_ports + self.mbim_ports
        answered = [port for port in ports if port.imei] or ports
        first = answered[0] if answered else None
        return {
            "source": self.source,
            "sysfs_evidence": self.evidence,
            "modems": [asdict(m) for m in self.modems],
            "imsi": first.imsi if first else None,
            "iccid": first.iccid if first else None,
            "model": first.model if first else None,
            "revision": first.revision if first else None,
            "at_ports": [asdict(port) for port in self.at_ports],
            "mbim_ports": [asdict(port) for port in self.mbim_ports],
        }


@dataclass(frozen=True)
class SysHints:
    """The raw sysfs view: names of wwan net devices, WWAN ports, bound modem drivers."""

    wwan_netdevs: list[str] = field(default_factory=list)
    wwan_ports: list[str] = field(default_factory=list)
    bound: dict[str, list[str]] = field(default_factory=dict)  # driver -> bound devices
    cdc_wdm: list[str] = field(default_factory=list)


def read_list() -> str:
    return run.run(["mmcli", "-L", "-K"], timeout=15)


def read_modem(index: int) -> str:
    return run.run(["mmcli", "-m", str(index), "-K"], timeout=15)


def read_sysfs() -> SysHints:
    """What the kernel shows of modem hardware; missing directories simply show nothing."""

    def entries(path: str) -> list[str]:
        try:
            return run.list_sys(path)
        except OSError:
            return []

    bound = {}
    for bus, drivers in MODEM_DRIVERS.items():
        for driver in drivers + (AMBIGUOUS_DRIVERS if bus == "usb" else ()):
            # A driver directory lists bind/unbind/uevent/module besides its bound devices:
            # USB interfaces (1-1:1.4) and PCI functions carry a ':', MHI channels say "mhi".
            devices = [
                name
                for name in entries(f"/sys/bus/{bus}/drivers/{driver}")
                if ":" in name or name.startswith("mhi")
            ]
            if devices:
                bound[driver] = devices
    return SysHints(
        wwan_netdevs=[n for n in entries("/sys/class/net") if n.startswith("ww")],
        wwan_ports=entries("/sys/class/wwan"),
        bound=bound,
        cdc_wdm=[n for n in entries("/sys/class/usbmisc") if n.startswith("cdc-wdm")],
    )


def modem_evidence(hints: SysHints) -> list[str]:
    """Human-readable reasons to believe there is a modem; empty when there are none."""
    reasons = [f"network interface {name}" for name in hints.wwan_netdevs]
    reasons += [f"WWAN port {name}" for name in hints.wwan_ports]
    for driver, devices in sorted(hints.bound.items()):
        if driver in AMBIGUOUS_DRIVERS and not hints.cdc_wdm:
            continue  # a USB Ethernet adapter, not a modem
        reasons.append(f"driver {driver} bound to {', '.join(devices)}")
    return reasons


def parse_list(text: str) -> Parsed[list[int]]:
    """Modem indexes from ``mmcli -L`` in either layout; "No modems were found" gives []."""
    return Parsed(sorted({int(n) for n in _MODEM_PATH.findall(text)}))


def parse_keys(text: str) -> dict[str, str]:
    """``mmcli -m N`` output as -K keys, from the ``-K`` layout or the human one."""
    keys: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        if "|" in line:  # "  Hardware |  equipment id: 86378..." or "           | model: E3276"
            left, _, right = line.partition("|")
            section = left.strip() or section
            label, colon, value = right.partition(":")
            key = _HUMAN_KEYS.get((section, label.strip()))
        else:  # "modem.3gpp.imei                : 0123..."
            key, colon, value = line.partition(":")
            key = key.strip()
        value = value.strip()
        if key and colon and value and value != "--":
            keys.setdefault(key, value)
    return keys


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char) * (2 if position % 2 else 1)
        total += number - 9 if number > 9 else number
    return total % 10 == 0


def choose_imei(keys: dict[str, str]) -> Parsed[str | None]:
    """The first value under IMEI_KEYS that is exactly 15 digits, or None."""
    warnings = []
    for key in IMEI_KEYS:
        value = keys.get(key)
        if value is None:
            continue
        if not re.fullmatch(r"\d{15}", value):
            warnings.append(f"{key} {value!r} is not a 15-digit IMEI; not sent")
            continue
        if not luhn_ok(value):
            warnings.append(f"IMEI {value} fails the Luhn check; sent anyway")
        return Parsed(value, warnings)
    return Parsed(None, warnings)


def parse(text: str) -> Parsed[str | None]:
    """The IMEI in one ``mmcli -m N`` output (None for ``mmcli -L`` or a modem without one)."""
    return choose_imei(parse_keys(text))


def parse_modem(index: int, text: str) -> Parsed[Modem]:
    keys = parse_keys(text)
    imei = choose_imei(keys)
    modem = Modem(
        index=index,
        manufacturer=keys.get("modem.generic.manufacturer"),
        model=keys.get("modem.generic.model"),
        imei=imei.facts,
    )
    return Parsed(modem, imei.warnings)


def collect(
    failures: list[Failure],
    *,
    wait_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ModemFacts:
    """has_modem and the IMEI: ModemManager when it is there, else sysfs; then, when a modem is
    there but no IMEI came, the modem's own AT ports (the default image has no ModemManager)."""
    facts = from_modem_manager(failures, wait_s=wait_s, clock=clock, sleep=sleep)
    if not facts.has_modem or facts.imei is not None:
        return facts
    answers = atport.collect(failures)
    imei = next((port.imei for port in answers if port.imei), None)
    source = "at" if imei is not None else facts.source
    mbim_answers: list[atport.AtFacts] = []
    if imei is None:  # a modem with only an MBIM control port
        mbim_answers = mbim.collect(failures)
        imei = next((port.imei for port in mbim_answers if port.imei), None)
        source = "mbim" if imei is not None else source
    if imei is not None and not luhn_ok(imei):
        failures.append(Failure(NAME, "parse", f"IMEI {imei} fails the Luhn check; sent anyway"))
    return replace(facts, imei=imei, source=source, at_ports=answers, mbim_ports=mbim_answers)


def from_modem_manager(
    failures: list[Failure],
    *,
    wait_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ModemFacts:
    """has_modem and the IMEI, from ModemManager when it is there, else from sysfs."""
    evidence = modem_evidence(read_sysfs())
    by_sysfs = ModemFacts(has_modem=bool(evidence), source="sysfs", evidence=evidence)
    # Without modem hardware ModemManager has nothing to find: ask once, do not wait.
    deadline = clock() + (wait_s if evidence else 0.0)
    while True:
        try:
            indexes = parse_guarded(NAME, parse_list, read_list(), failures, [])
            problem = None
        except run.CommandMissing:
            # No ModemManager is the default image's design, not a failure to collect: the AT
            # and MBIM ports are asked next when sysfs shows a modem, and say what they lack.
            return by_sysfs
        except run.RunError as exc:  # ModemManager not running (yet)
            indexes, problem = [], str(exc)
        if indexes or clock() >= deadline:
            break
        sleep(POLL_INTERVAL_S)
    if problem is not None:  # ModemManager never answered: sysfs decides
        failures.append(Failure(NAME, "read", problem))
        return by_sysfs
    if not indexes:
        if evidence:
            shown = "; ".join(evidence)
            message = f"no modem from ModemManager after {wait_s:g} s; sysfs shows {shown}"
            failures.append(Failure(NAME, "read", message))
            return by_sysfs
        return ModemFacts(source="mmcli")
    modems = []
    for index in indexes:
        try:
            text = read_modem(index)
        except run.RunError as exc:
            failures.append(Failure(NAME, "read", str(exc)))
            modems.append(Modem(index=index))
            continue
        parse_one = functools.partial(parse_modem, index)
        modems.append(parse_guarded(NAME, parse_one, text, failures, Modem(index=index)))
    imei = next((m.imei for m in modems if m.imei), None)
    return ModemFacts(has_modem=True, imei=imei, source="mmcli", evidence=evidence, modems=modems)
