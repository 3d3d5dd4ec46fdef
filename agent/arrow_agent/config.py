"""The agent's settings and where each came from: kernel command line, environment, flags.

Precedence, lowest first: built-in default, kernel command line (``arrow.server=URL``), then
environment (``ARROW_SERVER``), then command-line flags (``--server``). The service key and the
per-boot token are secrets: they are kept out of ``repr`` and every message, and ``describe()``
names only where they came from.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

AFTER_CHOICES = ("reboot", "poweroff", "none")

# setting -> (kernel command line key, environment variable)
SOURCES = {
    "server": ("arrow.server", "ARROW_SERVER"),
    "token": ("arrow.token", "ARROW_TOKEN"),
    "key": ("arrow.key", "DEVICE_LOOKUP_API_KEY"),
    "prefix": ("arrow.prefix", "ARROW_PREFIX"),
    "after": ("arrow.after", "ARROW_AFTER"),
    "deadline": ("arrow.deadline", "ARROW_DEADLINE"),
    "modem_wait": ("arrow.modem_wait", "ARROW_MODEM_WAIT"),
    "lldp_wait": ("arrow.lldp_wait", "ARROW_LLDP_WAIT"),
}
SECRETS = frozenset({"key", "token"})

_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")


@dataclass(frozen=True)
class Backoff:
    """How submission retries: the CLI's flags, the submitter's schedule."""

    initial: float = 2.0  # seconds before the second attempt
    maximum: float = 60.0  # cap on one wait
    request_timeout: float = 30.0  # seconds for one attempt

    def delay(self, retry: int, draw: float) -> float:
        """Wait before retry number *retry* (1-based): exponential, half of it jittered."""
        full = min(self.maximum, self.initial * 2 ** (retry - 1))
        return full / 2 + full / 2 * draw


class ConfigError(ValueError):
    """A setting has a value the agent cannot use; the message never contains a secret."""


@dataclass(frozen=True)
class Config:
    server: str | None = None
    key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    prefix: str = "PVE"
    after: str = "reboot"
    deadline: float = 600.0  # seconds of submission retries
    modem_wait: float = 30.0  # seconds to wait for ModemManager when sysfs shows a modem
    lldp_wait: float = 3.0  # seconds to listen for LLDP on linked ports (0: do not listen)
    origin: Mapping[str, str] = field(default_factory=dict)  # setting -> cmdline/env/flag

    @property
    def submit_url(self) -> str:
        return f"{(self.server or '').rstrip('/')}/api/inventory/submit"

    def auth_headers(self) -> dict[str, str]:
        """The per-boot token when there is one, else the service key."""
        if self.token:
            return {"X-Inventory-Token": self.token}
        if self.key:
            return {"X-Service-Api-Key": self.key}
        return {}

    def describe(self) -> str:
        """One console line; secrets appear only as where they came from."""
        if self.token:
            auth = f"per-boot token ({self.origin.get('token', 'default')})"
        elif self.key:
            auth = f"service key ({self.origin.get('key', 'default')})"
        else:
            auth = "none"
        return (
            f"server {self.server or '(none)'} ({self.origin.get('server', 'default')}); "
            f"auth {auth}; prefix {self.prefix}; after {self.after}; "
            f"deadline {self.deadline:g} s; modem wait {self.modem_wait:g} s; "
            f"LLDP wait {self.lldp_wait:g} s"
        )


def parse_cmdline(text: str) -> dict[str, str]:
    """``arrow.*`` settings from a kernel command line, by setting name."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain blanks
        words = text.split()
    by_key = {cmdline_key: name for name, (cmdline_key, _) in SOURCES.items()}
    found = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key in by_key:
            found[by_key[key]] = value
    return found


def from_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: environ[env] for name, (_, env) in SOURCES.items() if env in environ}


def resolve(
    *,
    cmdline: Mapping[str, str],
    env: Mapping[str, str],
    flags: Mapping[str, str | None],
) -> Config:
    """Settings merged by precedence (flags over env over cmdline) and checked."""
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for source, layer in (("cmdline", cmdline), ("env", env), ("flag", flags)):
        for name, value in layer.items():
            if value is not None:
                values[name], origin[name] = value, source
    settings: dict[str, object] = {"origin": origin}
    for name, value in values.items():
        settings[name] = _check(name, value, origin[name])
    return Config(**settings)  # type: ignore[arg-type]


def _has_tls() -> bool:
    """Whether ``ssl`` imports; asked only for an https:// server, so that an http:// one never
    pays for loading OpenSSL. The inventory image leaves TLS out (image/build.sh)."""
    try:
        import ssl  # noqa: F401
    except ImportError:
        return False
    return True


def _check(name: str, value: str, source: str) -> object:
    where = f"{name} (from {source})"
    if name in SECRETS:
        return value or None  # "arrow.token=" means no token
    if name == "server":
        if not re.match(r"https?://[^/\s]+", value):
            raise ConfigError(f"{where} must be an http:// or https:// URL, got {value!r}")
        try:
            urlsplit(value).port  # noqa: B018 - parsing it is the check
        except ValueError:
            raise ConfigError(
                f"{where} has no usable port (a number up to 65535), got {value!r}"
            ) from None
        if value.startswith("https://") and not _has_tls():
            raise ConfigError(
                f"{where} is an https:// URL, but this Python has no TLS (the inventory image "
                f"speaks HTTP only, docs/security.md); got {value!r}"
            )
        return value
    if name == "prefix":
        if not _PREFIX.fullmatch(value):
            raise ConfigError(
                f"{where} must be 1-20 letters, digits or hyphens, not starting with a "
                f"hyphen; got {value!r}"
            )
        return value
    if name == "after":
        if value not in AFTER_CHOICES:
            raise ConfigError(f"{where} must be one of {', '.join(AFTER_CHOICES)}; got {value!r}")
        return value
    try:  # deadline, modem_wait, lldp_wait
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise ConfigError(f"{where} must be a number of seconds, got {value!r}")
    return seconds
