"""The one gateway from the agent to the machine: commands, /sys and /proc.

Every collector reads the machine through this module, so a test, or an operator replaying a
captured machine, can point the agent at a directory instead (``--root DIR``). Under a root
nothing is executed and nothing outside the root is read:

- ``run(["ip", "-j", "link"])`` reads ``DIR/commands/ip-j-link.txt`` or ``.json`` (the argv
  joined with ``-``, leading dashes dropped); a missing file behaves as a missing command;
- ``read_sys("/sys/class/net/eth0/address")`` reads ``DIR/sys/class/net/eth0/address``;
- ``ethtool_drvinfo("eth0")`` reads ``DIR/ethtool/eth0.drvinfo`` (the raw ioctl answer).

Knows nothing about what the outputs mean.
"""

from __future__ import annotations

import array
import fcntl
import os
import socket
import struct
import termios
import tty
from collections.abc import Sequence
from pathlib import Path

_root: Path | None = None
_SIOCETHTOOL = 0x8946
_ETHTOOL_GDRVINFO = 3
DRVINFO_SIZE = 196  # struct ethtool_drvinfo


class RunError(Exception):
    """A command could not be run, timed out or exited non-zero; the message says which."""


class CommandMissing(RunError):
    """The command is not installed (or, under a root, was not captured)."""


def set_root(root: str | os.PathLike[str] | None) -> None:
    """Read commands and files from *root* from now on; None means the real machine."""
    global _root  # one process-wide setting, chosen once by the CLI or a test fixture
    _root = None if root is None else Path(root)


def get_root() -> Path | None:
    """The directory standing in for the machine, or None for the real machine."""
    return _root


def command_stem(argv: Sequence[str]) -> str:
    """The captured-output file stem: ``["mmcli", "-m", "0", "-K"]`` -> ``mmcli-m-0-K``."""
    return "-".join(arg.lstrip("-") for arg in argv)


def run(argv: Sequence[str], timeout: float = 30.0) -> str:
    """Run *argv* and return its standard output; raise RunError unless it exits 0."""
    shown = " ".join(argv)
    if _root is not None:
        return _replay(_root, argv)
    import subprocess  # here, not at the top: the early LLDP listener starts before it loads

    try:
        done = subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise CommandMissing(f"{argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise RunError(f"{shown}: no answer after {timeout:g} s") from None
    except OSError as exc:
        raise RunError(f"{shown}: {exc.strerror or exc}") from None
    stdout = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", errors="replace").strip() or stdout.strip()
        raise RunError(f"{shown} exited with status {done.returncode}: {said[-300:]}")
    return stdout


def _replay(root: Path, argv: Sequence[str]) -> str:
    stem = command_stem(argv)
    for suffix in (".txt", ".json"):
        path = root / "commands" / f"{stem}{suffix}"
        if path.is_file():
            return path.read_bytes().decode("utf-8", errors="replace")
    raise CommandMissing(f"{argv[0]}: command not found (no commands/{stem}.txt under {root})")


def sys_path(path: str) -> Path:
    """Where the machine path *path* (``/sys/...``, ``/proc/...``) is read from."""
    if _root is None:
        return Path(path)
    return _root / path.lstrip("/")


def read_sys_bytes(path: str) -> bytes:
    """The bytes of a /sys or /proc file; raises OSError like open() does."""
    return sys_path(path).read_bytes()


def read_sys(path: str) -> str:
    """The text of a /sys or /proc file; raises OSError like open() does."""
    return read_sys_bytes(path).decode("utf-8", errors="replace")


def list_sys(path: str) -> list[str]:
    """The sorted entry names of a /sys directory; raises OSError like os.listdir() does."""
    return sorted(os.listdir(sys_path(path)))


def sys_exists(path: str) -> bool:
    """True when *path* exists (symbolic links followed, as sysfs device links are)."""
    return sys_path(path).exists()


def sys_link_name(path: str) -> str | None:
    """The last component of the symbolic link *path* points to (a driver's name), or None."""
    try:
        return Path(os.readlink(sys_path(path))).name
    except OSError:
        return None


def write_sys(path: str, text: str) -> None:
    """Write *text* to a /proc or /sys file, such as ``/proc/sysrq-trigger``."""
    with sys_path(path).open("w") as handle:
        handle.write(text)


def open_port(path: str) -> int:
    """A modem control port (``/dev/ttyUSB2``, ``/dev/wwan0at0``) opened raw and non-blocking.

    Under a root, ``/dev/X`` is ``DIR/dev/X`` (a test links it to a pseudo-terminal it drives).
    Raises OSError like os.open() does.
    """
    fd = os.open(sys_path(path), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    if os.isatty(fd):
        tty.setraw(fd)
        termios.tcflush(fd, termios.TCIOFLUSH)
    return fd


def ethtool_drvinfo(interface: str) -> bytes | None:
    """The kernel's ``struct ethtool_drvinfo`` for *interface* (what ``ethtool -i`` prints), by
    the SIOCETHTOOL ioctl; None under a root that did not capture it. Raises OSError."""
    if _root is not None:
        path = _root / "ethtool" / f"{interface}.drvinfo"
        return path.read_bytes() if path.exists() else None
    buffer = array.array("B", struct.pack("I", _ETHTOOL_GDRVINFO) + bytes(DRVINFO_SIZE - 4))
    request = struct.pack("16sP", interface.encode("utf-8")[:15], buffer.buffer_info()[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock.fileno(), _SIOCETHTOOL, request)
    return buffer.tobytes()
