"""What the agent does to the machine once its inventory is accepted: reboot, power off, or
nothing.

The magic SysRq trigger works in any ramdisk with /proc mounted, whatever runs as PID 1, so it
comes first; ``reboot -f`` / ``poweroff -f`` are the fallback. Consoles are flushed first,
because after SysRq nothing else gets written. SysRq "o" only queues the power-off, so the
agent then waits for it rather than exit (an init that exits panics the kernel first).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from arrow_agent import run

SYSRQ = {"reboot": "b", "poweroff": "o"}
COMMANDS = {"reboot": ["reboot", "-f"], "poweroff": ["poweroff", "-f"]}


def perform(
    action: str,
    *,
    settle_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Do *action* ("reboot", "poweroff" or "none"); None when done, else why it failed.

    Returning at all after a real reboot or power-off means it did not happen within
    *settle_s*; under ``--root`` nothing real happens, so the CLI passes 0.
    """
    if action == "none":
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    problems = []
    try:
        run.write_sys("/proc/sysrq-trigger", SYSRQ[action])
    except OSError as exc:
        problems.append(f"/proc/sysrq-trigger: {exc.strerror or exc}")
    else:
        if not settle_s:
            return None
        sleep(settle_s)
        problems.append(f"still running {settle_s:g} s after SysRq")
    command = COMMANDS[action]
    try:
        run.run(command, timeout=30)
    except run.RunError as exc:
        problems.append(str(exc))
    else:
        if not settle_s:
            return None
        sleep(settle_s)
        problems.append(f"still running {settle_s:g} s after {' '.join(command)}")
    return "; ".join(problems)
