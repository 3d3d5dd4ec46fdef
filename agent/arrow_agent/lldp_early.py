"""``python3 -m arrow_agent.lldp_early FILE PORT...``: LLDP listening from the moment ports link.

The image's /init starts it when the first port links, while DHCP runs and the agent itself
starts. Each of the named ports that links within the window is announced on and listened to
(``lldp.Listening``), and what was heard is written to FILE as JSON, replaced in one step when
listening ends. The agent's LLDP collector reads FILE (``collect --lldp-from FILE``) instead of
listening again on those ports, so on a network where no switch speaks the window passes while
the machine does other work, not after it. The window is the agent's own ``arrow.lldp_wait``.

It imports only what listening needs (not ``run``, whose subprocess and tempfile cost a second
under emulation): it runs beside the agent's start, on what may be one CPU. Only the image runs
it, on the machine's own /sys and /proc.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from arrow_agent.collectors import Failure, lldp
from arrow_agent.config import ConfigError, from_env, parse_cmdline, resolve

POLL_S = 0.1  # how often ports that have no link yet are looked at


def has_carrier(port: str) -> bool:
    try:
        return Path("/sys/class/net", port, "carrier").read_text().strip() == "1"
    except OSError:
        return False


def listen_as_ports_link(
    ports: Sequence[str],
    wait_s: float,
    *,
    linked: Callable[[str], bool] = has_carrier,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> lldp.Heard:
    """Ports join when they link, during the first *wait_s* seconds; each is listened to for
    *wait_s* from its joining, so the whole takes at most twice the window."""
    failures: list[Failure] = []
    listening = lldp.Listening(failures, wait_s=wait_s, clock=clock)
    joining_ends = clock() + wait_s
    try:
        while True:
            joining = clock() < joining_ends and len(listening.joined) < len(ports)
            if joining:
                for port in ports:
                    if port not in listening.joined and linked(port):
                        listening.join(port)
            if listening.waiting():
                listening.poll(POLL_S if joining else wait_s)
            elif joining:
                sleep(POLL_S)
            else:
                break
    finally:
        neighbors = listening.close()
    return lldp.Heard(tuple(listening.joined), tuple(neighbors), tuple(failures))


def write(path: Path, heard: lldp.Heard) -> None:
    """Replaces *path* in one step, so a reader sees nothing or the whole result."""
    part = path.with_name(path.name + ".part")
    part.write_text(heard.as_json())
    os.replace(part, path)


def wait_for(
    path: Path,
    timeout_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> lldp.Heard | None:
    """The early listener's result, once written; None when it did not come within
    *timeout_s* or cannot be read (the caller then listens itself)."""
    give_up = clock() + timeout_s
    while not path.exists():
        if clock() >= give_up:
            return None
        sleep(POLL_S)
    try:
        return lldp.Heard.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print("usage: python3 -m arrow_agent.lldp_early FILE PORT...", file=sys.stderr)
        return 2
    try:
        cmdline = parse_cmdline(Path("/proc/cmdline").read_text())
    except OSError:
        cmdline = {}
    try:
        wait_s = resolve(cmdline=cmdline, env=from_env(os.environ), flags={}).lldp_wait
    except ConfigError:
        return 2  # the agent says what is wrong with its settings, and does not listen
    if wait_s > 0:
        write(Path(argv[0]), listen_as_ports_link(argv[1:], wait_s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
