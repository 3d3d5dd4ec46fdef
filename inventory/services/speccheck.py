"""What a device spec says its devices must have, and whether an inventory has it.

`requirements_clean` turns what staff typed (admin API or portal) into the stored form, or
raises ValidationFailed naming the field (``requirements.cpu_pattern``). `spec_check` is pure:
the requirements and a device's facts in, readable mismatches out ("expected 32 GiB memory,
found 16 GiB"). `spec_verdict` and `spec_verdict_record` apply it to a device during a
submission (inventory/services/submission.py). A fact the inventory did not report fails a
requirement on it: nothing unverified is sent to imaging unless the spec says "image anyway".

The facts are read where the agent puts them (docs/agent.md): ``hardware.cpu.model``,
``hardware.cpu.cores``, ``hardware.memory_modules[].size_mb`` (else ``hardware.memory_bytes``),
``hardware.disks[].size_bytes``, the reported MACs (NICs) and ``has_modem``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2

from inventory.errors import ValidationFailed
from inventory.services.text import text_problem

F = "requirements"
MAX_PATTERN = 200
MAX_CPU_TEXT = 300  # of the reported CPU model, the part a pattern is matched against
# The largest value each number may take: beyond it no device exists, and a typo is likelier.
LIMITS = {
    "min_cores": 4096,
    "min_memory_gib": 1 << 20,
    "min_disks": 256,
    "min_disk_gb": 10**7,
    "min_nics": 64,
}
KEYS = ("cpu_pattern", *LIMITS, "modem")
GIB = 1 << 30
GB = 10**9
# The kernel's MemTotal leaves out what firmware and the kernel reserve (a 32 GiB machine
# reports about 31.2 GiB), so without memory modules it may fall this much short.
MEMTOTAL_SHARE = 0.9


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=256)
def cpu_regex(pattern: str) -> Any:
    """*pattern* compiled the one way it is used: RE2 syntax, case-insensitive, searched
    anywhere in the model. Raises re2.error for a pattern RE2 refuses."""
    return re2.compile(pattern, _options())


def _pattern_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if len(value) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    if problem := text_problem(value):
        return problem[1]
    try:
        cpu_regex(value.strip())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else b""
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        return f"not a valid regular expression: {text.split(':')[0][:100]}"
    return None


def _number_problem(key: str, value: object) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return f"must be a whole number, got {type(value).__name__}"
    if not 1 <= value <= LIMITS[key]:
        return f"must be between 1 and {LIMITS[key]}, got {value}"
    return None


def _problem(key: str, value: object) -> str | None:
    if key == "cpu_pattern":
        return _pattern_problem(value)
    if key == "modem":
        return None if isinstance(value, bool) else "must be true, false or null"
    return _number_problem(key, value)


def requirements_clean(value: object) -> dict[str, Any]:
    """The requirements as stored: only the ones set, in KEYS order. ``None`` or ``""`` for a
    key (``{}`` for the whole) means "not checked". Every problem is listed with its field."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed([{"field": F, "code": "type", "message": "must be an object"}])
    errors = [
        {"field": f"{F}.{key}"[:100], "code": "unknown_field", "message": "unknown requirement"}
        for key in value
        if key not in KEYS
    ]
    clean: dict[str, Any] = {}
    for key in KEYS:
        item = value.get(key)
        if isinstance(item, str) and key == "cpu_pattern":
            item = item.strip()
        if item is None or item == "":
            continue
        if message := _problem(key, item):
            errors.append({"field": f"{F}.{key}", "code": "invalid", "message": message})
        else:
            clean[key] = item
    if errors:
        raise ValidationFailed(errors)
    return clean


def requirements_describe(requirements: dict[str, Any]) -> list[str]:
    """The stored requirements as a person reads them, one line each."""
    req = requirements or {}
    lines = []
    if req.get("cpu_pattern"):
        lines.append(f"CPU model matches {req['cpu_pattern']!r}")
    if req.get("min_cores"):
        lines.append(f"at least {_plural(req['min_cores'], 'CPU core')}")
    if req.get("min_memory_gib"):
        lines.append(f"at least {req['min_memory_gib']} GiB memory")
    if req.get("min_disks") or req.get("min_disk_gb"):
        size = f" of at least {req['min_disk_gb']} GB" if req.get("min_disk_gb") else ""
        lines.append(f"at least {_plural(req.get('min_disks') or 1, 'disk')}{size}")
    if req.get("min_nics"):
        lines.append(f"at least {_plural(req['min_nics'], 'NIC')}")
    if req.get("modem") is not None:
        lines.append("a modem" if req["modem"] else "no modem")
    return lines


# --- the check (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What a device reported that its spec can require."""

    hardware: dict[str, Any]
    has_modem: bool
    nics: int  # its own (not shared) MACs: the agent reports every physical NIC


@dataclass(frozen=True)
class Mismatch:
    fact: str  # cpu, cores, memory, disks, nics, modem
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"fact": self.fact, "message": self.message}


def _count(value: Any) -> int | None:
    """A non-negative whole number as reported, else None (not reported)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _cpu(hardware: dict[str, Any]) -> dict[str, Any]:
    cpu = hardware.get("cpu")
    return cpu if isinstance(cpu, dict) else {}


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_cpu(pattern: str, hardware: dict[str, Any]) -> Mismatch | None:
    model = _cpu(hardware).get("model")
    wanted = f"expected a CPU matching {pattern!r}"
    if not isinstance(model, str) or not model.strip():
        return Mismatch("cpu", f"{wanted}, not reported")
    try:
        regex = cpu_regex(pattern)
    except re2.error:  # stored around requirements_clean: the check fails, it never crashes
        return Mismatch("cpu", f"{wanted}: the pattern is not a valid regular expression")
    if regex.search(model[:MAX_CPU_TEXT]):
        return None
    return Mismatch("cpu", f"{wanted}, found {model.strip()[:120]!r}")


def _check_cores(minimum: int, hardware: dict[str, Any]) -> Mismatch | None:
    cores = _count(_cpu(hardware).get("cores"))
    wanted = f"expected {_plural(minimum, 'CPU core')}"
    if cores is None:
        return Mismatch("cores", f"{wanted}, not reported")
    return None if cores >= minimum else Mismatch("cores", f"{wanted}, found {cores}")


def _memory(hardware: dict[str, Any]) -> tuple[int | None, bool]:
    """(bytes, installed): the memory modules' total when reported, else MemTotal."""
    modules = hardware.get("memory_modules")
    if isinstance(modules, list):
        sizes = [_count(m.get("size_mb")) for m in modules if isinstance(m, dict)]
        total = sum(s for s in sizes if s)
        if total:
            return total * (1 << 20), True
    return _count(hardware.get("memory_bytes")), False


def _check_memory(gib: int, hardware: dict[str, Any]) -> Mismatch | None:
    found, installed = _memory(hardware)
    wanted = f"expected {gib} GiB memory"
    if found is None:
        return Mismatch("memory", f"{wanted}, not reported")
    enough = gib * GIB * (1 if installed else MEMTOTAL_SHARE)
    if found >= enough:
        return None
    return Mismatch("memory", f"{wanted}, found {_number(round(found / GIB, 1))} GiB")


def _disk_sizes(hardware: dict[str, Any]) -> list[int] | None:
    """Sizes of the disks that count, largest first: USB disks (a stick left in a port) and
    empty media (a card reader: size 0) do not."""
    disks = hardware.get("disks")
    if not isinstance(disks, list):
        return None
    sizes = [
        _count(d.get("size_bytes"))
        for d in disks
        if isinstance(d, dict) and d.get("transport") != "usb"
    ]
    return sorted((s for s in sizes if s), reverse=True)


def _check_disks(count: int | None, gb: int | None, hardware: dict[str, Any]) -> Mismatch | None:
    count = count or 1
    wanted = f"expected {_plural(count, 'disk')}" + (f" of at least {gb} GB" if gb else "")
    sizes = _disk_sizes(hardware)
    if sizes is None:
        return Mismatch("disks", f"{wanted}, not reported")
    fit = [s for s in sizes if not gb or s >= gb * GB]
    if len(fit) >= count:
        return None
    shown = f" (sizes: {', '.join(f'{s / GB:.0f} GB' for s in sizes)})" if gb and sizes else ""
    return Mismatch("disks", f"{wanted}, found {len(fit)}{shown}")


def _check_modem(wanted: bool, has_modem: bool) -> Mismatch | None:
    if wanted == has_modem:
        return None
    message = "expected a modem, found none" if wanted else "expected no modem, found one"
    return Mismatch("modem", message)


def spec_check(requirements: dict[str, Any], facts: Facts) -> list[Mismatch]:
    """Every requirement *facts* fail, in KEYS order; [] when they meet them all (or there are
    none). *requirements* is the stored form (requirements_clean)."""
    req, hardware = requirements or {}, facts.hardware or {}
    found = []
    if req.get("cpu_pattern"):
        found.append(_check_cpu(req["cpu_pattern"], hardware))
    if req.get("min_cores"):
        found.append(_check_cores(req["min_cores"], hardware))
    if req.get("min_memory_gib"):
        found.append(_check_memory(req["min_memory_gib"], hardware))
    if req.get("min_disks") or req.get("min_disk_gb"):
        found.append(_check_disks(req.get("min_disks"), req.get("min_disk_gb"), hardware))
    if req.get("min_nics") and facts.nics < req["min_nics"]:
        wanted = _plural(req["min_nics"], "NIC")
        found.append(Mismatch("nics", f"expected {wanted}, found {facts.nics}"))
    if req.get("modem") is not None:
        found.append(_check_modem(req["modem"], facts.has_modem))
    return [m for m in found if m is not None]


# --- a device's verdict -------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecVerdict:
    spec: str | None
    mismatches: list[Mismatch]
    image_anyway: bool

    @property
    def held(self) -> bool:
        """Kept from imaging: the hardware fails the spec, and the spec does not say otherwise."""
        return bool(self.mismatches) and not self.image_anyway


def spec_verdict(spec, facts: Facts) -> SpecVerdict:
    """The check of *facts* against *spec* (a DeviceSpec, or None: nothing to check)."""
    if spec is None:
        return SpecVerdict(None, [], False)
    mismatches = spec_check(spec.requirements or {}, facts)
    return SpecVerdict(spec.name, mismatches, spec.image_anyway)


def _summary(messages: list[str]) -> str:
    return "; ".join(messages) if messages else "meets its spec"


def spec_verdict_record(
    *, device, verdict: SpecVerdict, is_new: bool
) -> tuple[dict[str, list], list[str]]:
    """Sets the verdict on *device* (unsaved) and returns what its history records: the change
    of the spec check (``{"spec check": [before, after]}``, empty when it did not change) and
    a note. A "spec mismatch" event belongs where the submission saves the device and records
    this change (submission._persist_change), not here: the device row must exist first."""
    before = [m.get("message", "") for m in device.spec_mismatches or [] if isinstance(m, dict)]
    after = [m.message for m in verdict.mismatches]
    device.fails_spec = bool(after)
    device.spec_mismatches = [m.as_dict() for m in verdict.mismatches]
    notes = []
    if after:
        then = "held from imaging" if verdict.held else "sent to imaging anyway (the spec says so)"
        notes.append(f"hardware does not meet spec {verdict.spec!r}: {then}")
    elif before:
        notes.append("hardware meets its spec again")
    if before == after:
        return {}, notes
    old = None if is_new else _summary(before)
    return {"spec check": [old, _summary(after)]}, notes
