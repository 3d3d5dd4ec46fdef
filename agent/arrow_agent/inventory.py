"""Runs every collector and builds ``inventory_data``; owns the device_name rule.

Each collector is wrapped, so one that breaks is recorded in ``hardware.collection_errors``
(stage "collect") and the others still run: an unknown machine reports what it could gather
and names what it could not. The top-level keys are exactly the ones the backend validates;
everything else lives in the ``hardware`` object.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

from arrow_agent import __version__, lldp_early, run
from arrow_agent.collectors import Failure, bmc, dmi, hardware, lldp, modem, net, platform

T = TypeVar("T")
# Once told to stop joining, the early listener ends within one window, plus this.
EARLY_GRACE_S = 2.0


def device_name(prefix: str, serial: str | None, macs: Sequence[str]) -> str | None:
    """``PREFIX-NNNNNNNN``: eight digits of a SHA-256 of the real serial, else of the lowest
    MAC, so re-inventory of the same device gives the same name. None without either."""
    if serial:
        identity = f"serial:{serial}"
    elif macs:
        identity = f"mac:{min(macs)}"
    else:
        return None
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return f"{prefix}-{int.from_bytes(digest[:8], 'big') % 10**8:08d}"


def _guarded(name: str, failures: list[Failure], collect: Callable[[], T], empty: T) -> T:
    try:
        return collect()
    except Exception as exc:  # a collector bug must not cost the other collectors' facts
        failures.append(Failure(name, "collect", f"{type(exc).__name__}: {exc}"))
        return empty


class _LldpListener:
    """LLDP listening in a thread, so its window overlaps the other collectors' work.

    With *early* (the listener the CLI started before the network was up) the thread waits for
    its result and listens itself only on linked ports it did not cover. A replayed machine
    (``--root``) has no network to listen on: nothing is listened to.
    """

    def __init__(
        self, linked: Sequence[str], wait_s: float, early: lldp_early.EarlyListener | None = None
    ) -> None:
        self.failures: list[Failure] = []
        self.neighbors: list[lldp.Neighbor] = []
        self.thread = None
        if run.get_root() is None and linked and wait_s > 0:
            self.thread = threading.Thread(target=self._listen, args=(linked, wait_s, early))
            self.thread.start()

    def _listen(
        self, linked: Sequence[str], wait_s: float, early: lldp_early.EarlyListener | None
    ) -> None:
        def collect() -> list[lldp.Neighbor]:
            heard = None
            if early is not None:
                heard = early.result(early.wait_s + EARLY_GRACE_S)
                if heard is None:
                    message = "the early listener has not finished; listening here"
                    self.failures.append(Failure(lldp.NAME, "read", message))
            return lldp.collect(self.failures, linked, wait_s=wait_s, heard=heard)

        self.neighbors = _guarded(lldp.NAME, self.failures, collect, [])

    def result(self, failures: list[Failure]) -> list[lldp.Neighbor]:
        if self.thread is not None:
            self.thread.join()
        failures.extend(self.failures)
        return self.neighbors


def collect_inventory(
    *,
    prefix: str,
    modem_wait: float,
    lldp_wait: float = lldp.DEFAULT_WAIT_S,
    early_lldp: lldp_early.EarlyListener | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The ``inventory_data`` object for this machine."""
    failures: list[Failure] = []
    dumps: list[str] = []
    facts = _guarded(dmi.NAME, failures, lambda: dmi.collect(failures, dumps), dmi.DmiFacts())
    nics = _guarded(net.NAME, failures, lambda: net.collect(failures), [])
    linked = [nic.name for nic in nics if nic.carrier]
    listener = _LldpListener(linked, lldp_wait, early_lldp)
    modems = _guarded(
        modem.NAME,
        failures,
        lambda: modem.collect(failures, wait_s=modem_wait, clock=clock, sleep=sleep),
        modem.ModemFacts(),
    )
    machine = _guarded(hardware.NAME, failures, lambda: hardware.collect(failures), {})
    extra = _guarded(
        platform.NAME, failures, lambda: platform.collect(failures, next(iter(dumps), None)), {}
    )
    baseboard = _guarded(bmc.NAME, failures, lambda: bmc.collect(failures), {})
    neighbors = listener.result(failures)

    serial, sn_source = dmi.choose_serial(facts)
    pairs = net.mac_list(nics)
    failures.extend(Failure(net.NAME, "parse", warning) for warning in pairs.warnings)
    return {
        "mac_address": pairs.facts,
        "device_name": device_name(prefix, serial, [nic.mac for nic in nics if not nic.shared]),
        "serial_number": serial,
        "device_spec": dmi.device_spec(facts),
        "has_modem": modems.has_modem,
        "imei": modems.imei,
        "hardware_generated_sn": serial is not None,
        "sn_source": sn_source,
        "hardware": {
            "agent_version": __version__,
            "dmi": facts.stripped(),
            **machine,
            **extra,
            **baseboard,
            "nics": [asdict(nic) for nic in nics],
            "modem": modems.as_hardware(),
            "lldp": [asdict(neighbor) for neighbor in neighbors],
            "collection_errors": [failure.as_dict() for failure in failures],
        },
    }
