"""LLDP listening from the agent's first moment, while the network is still coming up.

The image's /init starts the agent before DHCP is done (``collect --wait-for FILE``) and tells
it so (``ARROW_LLDP_EARLY=1``): ``python3 -m arrow_agent`` then starts this listener before it
imports anything else (``start_for_image_run``), so the LLDP window runs while DHCP waits and
Python imports the CLI, the collectors and the HTTP client, not after them. Anywhere else
``collect`` starts it once it has read its settings. Each physical port joins when
it links, until the collectors start (``lldp.Listening``: announced on, then listened to for
the window from its joining); the LLDP collector takes what was heard and listens itself only
on linked ports this did not cover (one that linked later).

A thread of the agent, not a process of its own: a second interpreter beside the agent cost
more CPU on one emulated core than the wait it hid. It imports only what listening needs, and
reads the machine's own /sys, so it is never started under ``--root``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from arrow_agent.collectors import Failure, lldp

POLL_S = 0.1  # how often ports that have no link yet are looked at
JOIN_MAX_S = 120.0  # ports stop joining by then even if the agent never collects
SYS_NET = Path("/sys/class/net")
IMAGE_RUN_ENV = "ARROW_LLDP_EARLY"  # "1": the image's own run on the machine (image/init)


def physical_ports() -> list[str]:
    """Network interfaces with a device behind them (no lo, bridges or veths), as /init sees
    them; empty when /sys cannot be read."""
    try:
        names = sorted(os.listdir(SYS_NET))
    except OSError:
        return []
    return [name for name in names if (SYS_NET / name / "device").exists()]


def has_carrier(port: str) -> bool:
    try:
        return (SYS_NET / port / "carrier").read_text().strip() == "1"
    except OSError:
        return False


def listen_as_ports_link(
    ports: Callable[[], Sequence[str]],
    wait_s: float,
    *,
    joining: Callable[[], bool] = lambda: True,
    linked: Callable[[str], bool] = has_carrier,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> lldp.Heard:
    """Ports (as *ports* lists them now) join when they link, while *joining* says so and for
    at most JOIN_MAX_S; each is listened to for *wait_s* from its joining."""
    failures: list[Failure] = []
    listening = lldp.Listening(failures, wait_s=wait_s, clock=clock)
    joining_ends = clock() + JOIN_MAX_S
    try:
        while True:
            join = joining() and clock() < joining_ends
            if join:
                for port in ports():
                    if port not in listening.joined and linked(port):
                        listening.join(port)
            if listening.waiting():
                listening.poll(POLL_S if join else wait_s)
            elif join:
                sleep(POLL_S)
            else:
                break
    finally:
        neighbors = listening.close()
    return lldp.Heard(tuple(listening.joined), tuple(neighbors), tuple(failures))


class EarlyListener:
    """``listen_as_ports_link`` in a background thread, started at once; ports join until
    ``stop_joining`` (the collectors are about to look at the NICs)."""

    def __init__(
        self,
        wait_s: float,
        *,
        ports: Callable[[], Sequence[str]] = physical_ports,
        linked: Callable[[str], bool] = has_carrier,
    ) -> None:
        self.wait_s = wait_s
        self._heard: lldp.Heard | None = None
        self._stop = threading.Event()

        def keep_joining() -> bool:
            return not self._stop.is_set()

        def listen() -> lldp.Heard:
            return listen_as_ports_link(ports, wait_s, joining=keep_joining, linked=linked)

        # A daemon: an agent that ends for another reason (a usage error) does not wait for it.
        self._thread = threading.Thread(target=self._run, args=(listen,), name="lldp-early")
        self._thread.daemon = True
        self._thread.start()

    def _run(self, listen: Callable[[], lldp.Heard]) -> None:
        try:
            self._heard = listen()
        except Exception as exc:  # the collector then listens on every linked port itself
            failure = Failure(lldp.NAME, "read", f"early listener: {type(exc).__name__}: {exc}")
            self._heard = lldp.Heard((), (), (failure,))

    def stop_joining(self) -> None:
        """No port joins from now on; those that joined keep their windows."""
        self._stop.set()

    def result(self, timeout_s: float) -> lldp.Heard | None:
        """What was heard, once listening has ended; None if it has not within *timeout_s*."""
        self.stop_joining()
        self._thread.join(timeout_s)
        return None if self._thread.is_alive() else self._heard


def start_for_image_run(environ: Mapping[str, str]) -> EarlyListener | None:
    """The listener of the image's own run, started before the CLI is imported; None anywhere
    else. Its window is the one the settings give without flags (kernel command line, then
    environment: the image's /init passes no flags); ``collect`` replaces it if its flags say
    otherwise, and reports any setting that does not resolve, so none is started then."""
    if environ.get(IMAGE_RUN_ENV) != "1":
        return None
    from arrow_agent import config, run

    try:
        cmdline = config.parse_cmdline(run.read_sys("/proc/cmdline"))
        settings = config.resolve(cmdline=cmdline, env=config.from_env(environ), flags={})
    except (OSError, config.ConfigError):
        return None
    return EarlyListener(settings.lldp_wait) if settings.lldp_wait > 0 else None
