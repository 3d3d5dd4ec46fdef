"""Placeholder serial numbers and the order of serial sources.

Firmware often fills serial fields with a vendor default instead of a real value. Those values
must never identify a device: two boards that both say "To Be Filled By O.E.M." are two machines.
The backend imports this module too (it is standard library only), so the rules live in one place.

A value is a placeholder when it belongs to one of four families (see docs/agent.md):

- a vendor template string, listed literally in PLACEHOLDER_SERIALS or matched by TEMPLATES
  ("To Be Filled By O.E.M.", "Default string", "SerNum3", "OEM Define 3");
- a counting sequence, optionally behind a short prefix and before zero padding ("0123456789",
  "1234567890", "SYS-1234567890", "#A123456789", "123456789000", "ABCDEF0123456789");
- a "Type<N> - ..." template of Insyde firmware ("Type1 - 123456789", "Type2 - Board Serial
  Number"): the SMBIOS structure number stands in front of a default;
- an evaluation marker ("EVAL", "Evaluation", "Engineering Sample") of pre-production boards;

plus blanks and one character repeated ("00000000", "XXXXXXXX", "........").
"""

from __future__ import annotations

import re
from itertools import pairwise

# Compared after stripping and case-folding. Extend here; nowhere else. Firmware reuses the same
# defaults in every DMI string, so the agent also uses this list to skip placeholder manufacturer
# and product names ("System manufacturer", "System Product Name") when it builds device_spec.
PLACEHOLDER_SERIALS: frozenset[str] = frozenset(
    value.casefold()
    for value in (
        "To Be Filled By O.E.M.",
        "To Be Filled By O.E.M",
        "Default string",
        "System Serial Number",
        "Chassis Serial Number",
        "Base Board Serial Number",
        "Not Specified",
        "Not Available",
        "Not Applicable",
        "None",
        "N/A",
        "NA",
        "0123456789",
        "123456789",
        "Serial Number",
        "SerialNumber",
        "Unknown",
        "Invalid",
        "OEM",
        "Type2 - Board Serial Number",
        "Type1 - System Serial Number",
        "No Asset Information",
        "Empty",
        # Defaults of AMI-based boards, seen in the corpus (asus-p5q, asus-m3a78).
        "System manufacturer",
        "System Product Name",
        "System Version",
        "Chassis Manufacture",
        "Chassis Manufacturer",
        "Chassis Version",
        # Templates of ODM firmware seen in the corpus (dmidecode/*.txt of shared/corpus).
        "TBD by ODM",
        "TBD by OEM",
        "Not Supported by CPU",
        "O.E.M.",
        "Fill By OEM",
        "Default_String",
        "$(DEFAULT_STRING)",
    )
)

# Vendor templates with a number in them: memory and board fields of AMI/Insyde firmware.
TEMPLATES: tuple[re.Pattern[str], ...] = (
    re.compile(r"sernum\s*\d*"),  # "SerNum0".."SerNum7", "SerNum01" (AMI Aptio DIMM slots)
    re.compile(r"oem define\s*\d*"),  # "OEM Define 3"
    re.compile(
        r"type\s?\d{1,3}\s?-.*"
    ),  # Insyde "Type1 - 123456789", "Type2 - Board Serial Number"
)

# Evaluation and pre-production boards: the marker is the whole value or its first word.
EVALUATION = re.compile(r"(?:eval|evaluation|engineering\s+sample|es\s+sample)(?:\W.*)?")

# Counting sequences: at most a short non-digit prefix, a run of at least MIN_RUN characters that
# climb (or fall) one step at a time through one of these alphabets (wrapping round, so "7890"
# and "ef01" count), then optional zero padding.
_ALPHABETS = ("0123456789", "0123456789abcdef", "abcdefghijklmnopqrstuvwxyz")
_PREFIX = re.compile(r"[^0-9]{0,4}")
MIN_RUN = 6

# Source order, best first: (dmidecode section, sn_source value sent to the backend).
SERIAL_SOURCES: tuple[tuple[str, str], ...] = (
    ("system", "dmidecode"),
    ("baseboard", "bios"),
    ("chassis", "chassis"),
)


def is_placeholder_serial(value: str | None) -> bool:
    """True when *value* carries no identity: empty, a vendor default, or one repeated character."""
    if value is None:
        return True
    text = value.strip().casefold()
    if not text:
        return True
    if text in PLACEHOLDER_SERIALS:
        return True
    # "00000000", "XXXXXXXX", "........", "        ": one character repeated carries no identity.
    if len(set(text.replace(" ", ""))) <= 1:
        return True
    if any(pattern.fullmatch(text) for pattern in TEMPLATES) or EVALUATION.fullmatch(text):
        return True
    return is_counting_sequence(text)


def is_counting_sequence(text: str) -> bool:
    """True for "1234567890", "SYS-1234567890", "#A123456789", "123456789000", "9876543210",
    "ABCDEF0123456789": a keyboard run that firmware vendors type into every board."""
    text = text.casefold()
    for length in range(len(_PREFIX.match(text).group()) + 1):  # type: ignore[union-attr]
        core = text[length:].rstrip("0")
        # Trailing zeros may end the run itself ("1234567890"): give one back when it helps.
        candidates = (core, text[length:][: len(core) + 1])
        if any(_is_run(candidate) for candidate in candidates):
            return True
    return False


def _is_run(core: str) -> bool:
    if len(core) < MIN_RUN:
        return False
    for alphabet in _ALPHABETS:
        if not all(char in alphabet for char in core):
            continue
        size = len(alphabet)
        steps = {(alphabet.index(b) - alphabet.index(a)) % size for a, b in pairwise(core)}
        if steps in ({1}, {size - 1}):
            return True
    return False


def clean_serial(value: str | None) -> str | None:
    """The serial stripped of surrounding blanks, or None when it is a placeholder."""
    if is_placeholder_serial(value):
        return None
    return value.strip()  # type: ignore[union-attr]
