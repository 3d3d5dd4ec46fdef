"""IMEI, IMSI, ICCID, model and firmware of a modem that only has an MBIM control port.

MBIM (USB-IF MBIM 1.0) is a little-endian binary protocol on ``/dev/cdc-wdmN`` (cdc_mbim) or
``/dev/wwanNmbimN`` (the kernel WWAN subsystem). The agent sends OPEN, then two Basic Connect
queries: DEVICE_CAPS (DeviceId is the IMEI on a GSM/LTE modem, FirmwareInfo and HardwareInfo)
and SUBSCRIBER_READY_STATUS (SubscriberId is the IMSI, SimIccId the ICCID), then CLOSE. Every
answer is waited for at most COMMAND_TIMEOUT_S, all ports together at most DEADLINE_S: a port
that never answers is a ``modem/read`` collection error, never a hang.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import struct
import time
from collections.abc import Callable

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed
from arrow_agent.collectors.atport import AtFacts, ask_each

NAME = "modem"
COMMAND_TIMEOUT_S = 3.0
DEADLINE_S = 10.0
MAX_CONTROL_TRANSFER = 4096
BASIC_CONNECT = bytes.fromhex("a289cc33bcbb8b4fb6b0133ec2aae6df")
CID_DEVICE_CAPS = 1
CID_SUBSCRIBER_READY_STATUS = 2
_OPEN, _CLOSE, _COMMAND = 1, 2, 3
_OPEN_DONE, _CLOSE_DONE, _COMMAND_DONE, _FUNCTION_ERROR = (
    0x80000001,
    0x80000002,
    0x80000003,
    0x80000004,
)
_HEADER = struct.Struct("<III")  # MessageType, MessageLength, TransactionId


def ports() -> list[str]:
    """MBIM control ports: WWAN ``wwanNmbimN`` first, then ``cdc-wdmN`` bound to cdc_mbim."""

    def entries(path: str) -> list[str]:
        try:
            return run.list_sys(path)
        except OSError:
            return []

    wwan = [n for n in entries("/sys/class/wwan") if re.fullmatch(r"wwan\d+mbim\d+", n)]
    wdm = [
        n
        for n in entries("/sys/class/usbmisc")
        if re.fullmatch(r"cdc-wdm\d+", n)
        and run.sys_link_name(f"/sys/class/usbmisc/{n}/device/driver") == "cdc_mbim"
    ]
    return [f"/dev/{name}" for name in sorted(wwan) + sorted(wdm)]


def open_message(transaction: int) -> bytes:
    return _HEADER.pack(_OPEN, 16, transaction) + struct.pack("<I", MAX_CONTROL_TRANSFER)


def close_message(transaction: int) -> bytes:
    return _HEADER.pack(_CLOSE, 12, transaction)


def query_message(transaction: int, cid: int) -> bytes:
    """A COMMAND_MSG querying Basic Connect *cid*, one fragment, empty information buffer."""
    body = struct.pack("<II", 1, 0) + BASIC_CONNECT + struct.pack("<III", cid, 0, 0)
    return _HEADER.pack(_COMMAND, 12 + len(body), transaction) + body


class _Port:
    """One open control port: sends messages, reads whole answers within a deadline."""

    def __init__(self, path: str, timeout: float, clock: Callable[[], float]) -> None:
        self.path, self.timeout, self.clock = path, timeout, clock
        self.pending = b""
        try:
            self.fd = run.open_port(path)
        except OSError as exc:
            raise run.RunError(f"{path}: {exc.strerror or exc}") from None

    def ask(self, message: bytes, what: str) -> bytes:
        """Sends *message*; the answer with the same transaction id (indications skipped)."""
        os.write(self.fd, message)
        transaction = _HEADER.unpack_from(message)[2]
        deadline = self.clock() + self.timeout
        while True:
            answer = self._next(deadline, what)
            kind, _, tid = _HEADER.unpack_from(answer)
            if kind == _FUNCTION_ERROR and len(answer) >= 16:
                code = struct.unpack_from("<I", answer, 12)[0]
                raise run.RunError(f"{self.path}: {what}: MBIM function error {code}")
            if tid == transaction and kind & 0x80000000:
                return answer

    def _next(self, deadline: float, what: str) -> bytes:
        while len(self.pending) < 12 or len(self.pending) < _HEADER.unpack_from(self.pending)[1]:
            left = deadline - self.clock()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise run.RunError(f"{self.path}: no answer to {what} after {self.timeout:g} s")
            try:
                chunk = os.read(self.fd, MAX_CONTROL_TRANSFER)
            except BlockingIOError:
                continue
            if not chunk:
                raise run.RunError(f"{self.path}: closed while waiting for {what}")
            self.pending += chunk
        length = max(_HEADER.unpack_from(self.pending)[1], 12)
        answer, self.pending = self.pending[:length], self.pending[length:]
        return answer

    def close(self) -> None:
        os.close(self.fd)


def read(
    path: str, *, timeout: float = COMMAND_TIMEOUT_S, clock: Callable[[], float] = time.monotonic
) -> dict[str, bytes]:
    """The COMMAND_DONE answers of DEVICE_CAPS and SUBSCRIBER_READY_STATUS (the second may be
    missing: a modem without a SIM may refuse it). Raises run.RunError when OPEN or
    DEVICE_CAPS get no answer."""
    port = _Port(path, timeout, clock)
    try:
        port.ask(open_message(1), "MBIM OPEN")
        answers = {"device_caps": port.ask(query_message(2, CID_DEVICE_CAPS), "DEVICE_CAPS")}
        with contextlib.suppress(run.RunError):  # the device facts stand on their own
            answers["subscriber"] = port.ask(
                query_message(3, CID_SUBSCRIBER_READY_STATUS), "SUBSCRIBER_READY_STATUS"
            )
        with contextlib.suppress(OSError):
            os.write(port.fd, close_message(4))
        return answers
    finally:
        port.close()


def information(message: bytes) -> Parsed[bytes | None]:
    """The information buffer of a successful COMMAND_DONE, else None with the reason."""
    if len(message) < 48 or _HEADER.unpack_from(message)[0] != _COMMAND_DONE:
        return Parsed(None, ["not an MBIM COMMAND_DONE message"])
    status, length = struct.unpack_from("<II", message, 40)
    if status != 0:
        return Parsed(None, [f"MBIM status {status}"])
    buffer = message[48 : 48 + length]
    if len(buffer) < length:
        return Parsed(buffer, [f"information buffer cut short ({len(buffer)} of {length} bytes)"])
    return Parsed(buffer)


def _string(buffer: bytes, offset_at: int) -> str | None:
    """A UTF-16LE string by its (offset, size) pair at *offset_at*; None when outside."""
    if offset_at + 8 > len(buffer):
        return None
    offset, size = struct.unpack_from("<II", buffer, offset_at)
    if size == 0 or offset + size > len(buffer):
        return None
    return buffer[offset : offset + size].decode("utf-16-le", errors="replace").strip("\0 ")


def parse(port: str, answers: dict[str, bytes]) -> Parsed[AtFacts]:
    """IMEI, model and revision from DEVICE_CAPS; IMSI and ICCID from SUBSCRIBER_READY_STATUS.
    Identifiers that are not well formed are warnings, not facts."""
    warnings: list[str] = []
    found: dict[str, str | None] = {}
    caps = information(answers.get("device_caps", b""))
    warnings += [f"{port}: DEVICE_CAPS: {w}" for w in caps.warnings]
    if caps.facts:
        found |= {"imei": _string(caps.facts, 40), "revision": _string(caps.facts, 48)}
        found["model"] = _string(caps.facts, 56)
    if "subscriber" in answers:
        ready = information(answers["subscriber"])
        warnings += [f"{port}: SUBSCRIBER_READY_STATUS: {w}" for w in ready.warnings]
        if ready.facts:
            found |= {"imsi": _string(ready.facts, 4), "iccid": _string(ready.facts, 12)}
    checks = {"imei": r"\d{15}", "imsi": r"\d{14,15}", "iccid": r"89\d{16,18}"}
    for name, pattern in checks.items():
        text = found.get(name)
        if text is not None and not re.fullmatch(pattern, text.rstrip("Ff")):
            warnings.append(f"{port}: {name} {text!r} is not a valid {name.upper()}; not sent")
            found[name] = None
        elif text is not None:
            found[name] = text.rstrip("Ff")
    return Parsed(AtFacts(port=port, **{k: v for k, v in found.items() if v}), warnings)


def collect(
    failures: list[Failure],
    *,
    timeout: float = COMMAND_TIMEOUT_S,
    deadline_s: float = DEADLINE_S,
    clock: Callable[[], float] = time.monotonic,
) -> list[AtFacts]:
    """Ask each MBIM port in turn until one gives an IMEI or the deadline passes."""
    return ask_each(
        "MBIM ports", ports(), read, parse, failures,
        timeout=timeout, deadline_s=deadline_s, clock=clock,
    )  # fmt: skip
