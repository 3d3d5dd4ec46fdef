"""Placeholder serial numbers and the order of serial sources.

Firmware often fills serial fields with a vendor default instead of a real value. Those values
must never identify a device: two boards that both say "To Be Filled By O.E.M." are two machines.
The backend imports this module too (it is standard library only), so the list lives in one place.
"""

from __future__ import annotations

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
    )
)

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
    return len(set(text.replace(" ", ""))) <= 1


def clean_serial(value: str | None) -> str | None:
    """The serial stripped of surrounding blanks, or None when it is a placeholder."""
    if is_placeholder_serial(value):
        return None
    return value.strip()  # type: ignore[union-attr]
