"""Modem identity over an AT port, without ModemManager: IMEI, IMSI, ICCID, model, firmware.

Ports are the kernel WWAN subsystem's AT ports (``/dev/wwan0at0``) first, then the ``ttyUSB*``
of the option/qcserial drivers and ``ttyACM*``; they are tried only when sysfs shows modem
hardware, so no other serial device is ever written to. Every exchange is bounded: a port that
does not answer ``AT`` within the per-command timeout is given up with a failure, and all ports
together never take longer than the overall deadline. Echo is tolerated (``ATE0`` is sent, and
an echoed command line is skipped in any case). Knows nothing about ModemManager.
"""

from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable
from dataclasses import dataclass

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed

NAME = "modem"

COMMAND_TIMEOUT_S = 3.0
DEADLINE_S = 20.0

# What is asked, and the commands to ask it with, best first (SIMCom's SIM868 knows only AT+GSN;
# the ICCID command differs by vendor: +CCID 3GPP-style, +ICCID Telit/Sierra, +QCCID Quectel).
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("manufacturer", ("AT+CGMI",)),
    ("model", ("AT+CGMM",)),
    ("revision", ("AT+CGMR",)),
    ("imei", ("AT+CGSN", "AT+GSN")),
    ("imsi", ("AT+CIMI",)),
    ("iccid", ("AT+CCID", "AT+ICCID", "AT+QCCID")),
)
_FINAL = re.compile(r"^(?:OK|ERROR|NO CARRIER|COMMAND NOT SUPPORT|\+CM[ES] ERROR.*)$")
_PREFIX = re.compile(r"^[+^$%#][A-Z]+:\s*")
_PATTERNS = {
    "imei": re.compile(r"\d{15}"),
    "imsi": re.compile(r"\d{14,15}"),
    "iccid": re.compile(r"(89\d{16,18})[fF]?"),  # ITU-T E.118: 89 + up to 18 digits, F pad
}


@dataclass(frozen=True)
class AtFacts:
    port: str
    manufacturer: str | None = None
    model: str | None = None
    revision: str | None = None
    imei: str | None = None
    imsi: str | None = None
    iccid: str | None = None


def ports() -> list[str]:
    """Candidate AT ports, WWAN AT ports first: ``/dev/<name>`` for each."""

    def entries(path: str) -> list[str]:
        try:
            return run.list_sys(path)
        except OSError:
            return []

    wwan = [n for n in entries("/sys/class/wwan") if re.fullmatch(r"wwan\d+at\d+", n)]
    ttys = [n for n in entries("/sys/class/tty") if re.fullmatch(r"tty(?:USB|ACM)\d+", n)]
    ttys.sort(key=lambda n: (n[:6], int(n[6:])))
    return [f"/dev/{name}" for name in wwan + ttys]


def read(
    port: str,
    *,
    timeout: float = COMMAND_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:
    """The raw answer of every command in QUESTIONS (a fallback only after an error).

    Raises run.RunError when the port cannot be opened or does not answer ``AT``.
    """
    try:
        fd = run.open_port(port)
    except OSError as exc:
        raise run.RunError(f"{port}: {exc.strerror or exc}") from None
    try:
        if not _is_ok(ask(fd, "AT", timeout=timeout, clock=clock, port=port)):
            raise run.RunError(f"{port}: AT was not answered with OK")
        ask(fd, "ATE0", timeout=timeout, clock=clock, port=port)
        replies: dict[str, str] = {}
        for _, commands in QUESTIONS:
            for command in commands:
                replies[command] = ask(fd, command, timeout=timeout, clock=clock, port=port)
                if _is_ok(replies[command]):
                    break
        return replies
    finally:
        os.close(fd)


def ask(fd: int, command: str, *, timeout: float, clock: Callable[[], float], port: str) -> str:
    """Send one command; its answer up to the final result line, within *timeout* seconds."""
    os.write(fd, f"{command}\r".encode("ascii"))
    deadline = clock() + timeout
    answer = b""
    while True:
        left = deadline - clock()
        ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
        if not ready:
            said = answer.decode("ascii", errors="replace").strip()
            raise run.RunError(
                f"{port}: no answer to {command} after {timeout:g} s"
                + (f" (got {said[-80:]!r})" if said else "")
            )
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            continue
        if not chunk:
            raise run.RunError(f"{port}: closed while waiting for {command}")
        answer += chunk
        text = answer.decode("ascii", errors="replace")
        if any(_FINAL.match(line.strip()) for line in text.splitlines()):
            return text


def _is_ok(reply: str) -> bool:
    return any(line.strip() == "OK" for line in reply.splitlines())


def value(command: str, reply: str) -> str | None:
    """The information text of one reply: no echo, no result code, no "+CGSN:" prefix."""
    if not _is_ok(reply):
        return None
    for line in reply.splitlines():
        line = line.strip()
        if not line or line == command or _FINAL.match(line):
            continue
        return _PREFIX.sub("", line).strip().strip('"').strip()
    return None


def parse(port: str, replies: dict[str, str]) -> Parsed[AtFacts]:
    """The facts in the replies of one port; odd identifiers become warnings, not facts."""
    found: dict[str, str] = {}
    warnings: list[str] = []
    for name, commands in QUESTIONS:
        text = next((v for c in commands if (v := value(c, replies.get(c, ""))) is not None), None)
        if text is None or not text:
            continue
        pattern = _PATTERNS.get(name)
        match = pattern.fullmatch(text) if pattern else None
        if pattern is None:
            found[name] = text
        elif match:
            found[name] = match.group(1) if match.groups() else match.group()
        else:
            warnings.append(f"{port}: {name} {text!r} is not a valid {name.upper()}; not sent")
    return Parsed(AtFacts(port=port, **found), warnings)


def collect(
    failures: list[Failure],
    *,
    timeout: float = COMMAND_TIMEOUT_S,
    deadline_s: float = DEADLINE_S,
    clock: Callable[[], float] = time.monotonic,
) -> list[AtFacts]:
    """Ask each candidate port in turn until one gives an IMEI or the deadline passes."""
    found: list[AtFacts] = []
    candidates = ports()
    if not candidates:
        failures.append(Failure(NAME, "read", "no AT port (/dev/wwan*at*, ttyUSB*, ttyACM*)"))
        return found
    return ask_each(
        "AT ports", candidates, read, parse, failures,
        timeout=timeout, deadline_s=deadline_s, clock=clock,
    )  # fmt: skip


def ask_each(
    what: str,
    candidates: list[str],
    read: Callable,
    parse: Callable[[str, object], Parsed[AtFacts]],
    failures: list[Failure],
    *,
    timeout: float,
    deadline_s: float,
    clock: Callable[[], float],
) -> list[AtFacts]:
    """Reads and parses each port in turn (AT or MBIM) until one gives an IMEI or *deadline_s*
    passes; each command waits at most *timeout*. Every failure is a collection error."""
    found: list[AtFacts] = []
    stop = clock() + deadline_s
    for port in candidates:
        if clock() >= stop:
            failures.append(Failure(NAME, "read", f"{what}: gave up after {deadline_s:g} s"))
            break
        try:
            answers = read(port, timeout=min(timeout, max(stop - clock(), 0.1)), clock=clock)
        except run.RunError as exc:
            failures.append(Failure(NAME, "read", str(exc)))
            continue
        parsed = parse(port, answers)
        failures.extend(Failure(NAME, "parse", warning) for warning in parsed.warnings)
        found.append(parsed.facts)
        if parsed.facts.imei:
            break
    return found
