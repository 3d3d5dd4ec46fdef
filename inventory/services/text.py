"""Which text and free-form facts can be stored and shown as they are: control characters, lone
surrogates, NUL, nesting, numbers JSON has no spelling for. Knows nothing about any one body; the
bodies' schemas (inventory/schemas.py) and the services call it."""

from __future__ import annotations

import math
import re
from typing import Any

from inventory.errors import NotFound

MAX_FREE_FORM_DEPTH = 16  # dmidecode/lshw facts nest a few levels; deeper is not hardware
MAX_KEY = 64  # device ids are 14 characters; anything longer names no object

# Unicode category Cc, all of it: C0 (NUL, ESC...), DEL and C1 (CSI, NEL...). A regex, not a
# loop over characters: every string of every submission goes through these.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# JSON may escape a lone surrogate ("\\ud800"): no UTF-8 encodes it, PostgreSQL cannot store it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_PROBLEM = (
    "invalid_unicode",
    "contains a lone UTF-16 surrogate, which is not a character",
)

Loc = tuple[str | int, ...]


def text_problem(text: str) -> tuple[str, str] | None:
    """(code, message) when *text* cannot be stored and shown as it is, else None."""
    if _SURROGATE.search(text) is not None:
        return _SURROGATE_PROBLEM
    if _CONTROL.search(text) is not None:
        return "control_characters", "contains control characters"
    return None


def storable_problem(text: str) -> tuple[str, str] | None:
    """(code, message) when PostgreSQL cannot store *text* at all (multi-line text is fine)."""
    if _SURROGATE.search(text) is not None:
        return _SURROGATE_PROBLEM
    if "\x00" in text:
        return "control_characters", "contains a NUL character"
    return None


def lookup_key(value: object, *, field: str) -> str:
    """*value* as text to look an object up by (an id, a name), or NotFound naming *field*:
    too long, NUL or a lone surrogate (which the database cannot even compare) find nothing."""
    text = str(value) if value is not None else ""
    if len(text) > MAX_KEY or storable_problem(text):
        raise NotFound("unknown_object", f"nothing is named {text[:40]!r}", field=field)
    return text


def free_form_problem(value: Any) -> tuple[Loc, str, str] | None:
    """The first problem of free-form facts (hardware, capabilities) that cannot be stored as
    they are, as (where, code, message), *where* being the path of the value at fault below
    *value* (``("memory", 0, "size")``), else None."""
    stack: list[tuple[Any, int, Loc]] = [(value, 1, ())]
    while stack:
        item, depth, loc = stack.pop()
        if depth > MAX_FREE_FORM_DEPTH:
            return (), "too_deep", f"nested deeper than {MAX_FREE_FORM_DEPTH} levels"
        if isinstance(item, dict):
            stack.extend((k, depth, loc) for k in item if isinstance(k, str))
            stack.extend((v, depth + 1, (*loc, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, depth + 1, (*loc, i)) for i, v in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            return loc, "non_finite", "is not a finite number (JSON has no NaN or Infinity)"
        elif isinstance(item, str) and (problem := storable_problem(item)):
            return (loc, *problem)
    return None
