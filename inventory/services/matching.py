"""Reported spec name -> DeviceSpec, one rule in one place: exact name, then case-insensitive
name, then the specs' glob patterns (case-insensitive). No match is a normal outcome."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from inventory.models import DeviceSpec


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def spec_pick(reported: str | None, specs: Iterable[DeviceSpec]) -> DeviceSpec | None:
    """Pure: the spec *reported* names among *specs*, or None. Patterns are tried in name order."""
    if not reported or not reported.strip():
        return None
    specs = sorted(specs, key=lambda s: s.name)
    for spec in specs:
        if spec.name == reported:
            return spec
    folded = _fold(reported)
    for spec in specs:
        if _fold(spec.name) == folded:
            return spec
    for spec in specs:
        for pattern in spec.name_patterns or []:
            if fnmatchcase(folded, _fold(pattern)):
                return spec
    return None


def spec_match(reported: str | None) -> DeviceSpec | None:
    """The DeviceSpec for a reported name (one query: the spec table is small)."""
    if not reported or not reported.strip():
        return None
    return spec_pick(reported, DeviceSpec.objects.all())
