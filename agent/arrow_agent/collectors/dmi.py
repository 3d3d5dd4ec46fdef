"""DMI/SMBIOS facts: the raw strings, the serial number and its source, and the device spec name.

Owns running dmidecode (or reading ``/sys/class/dmi/id`` when dmidecode is missing or says
nothing), parsing its text tolerantly (CRLF, four-space indents, no header, missing sections),
choosing the serial in the order of ``serials.SERIAL_SOURCES`` and the device_spec tidy rule
(see docs/agent.md). Knows nothing about networks or modems.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from arrow_agent import run
from arrow_agent.collectors import Failure, Parsed, parse_guarded
from arrow_agent.serials import SERIAL_SOURCES, clean_serial, is_placeholder_serial

NAME = "dmi"


@dataclass(frozen=True)
class DmiFacts:
    """DMI strings exactly as the source printed them (trailing blanks kept); None when absent."""

    bios_vendor: str | None = None
    bios_version: str | None = None
    bios_release_date: str | None = None
    system_manufacturer: str | None = None
    system_product_name: str | None = None
    system_version: str | None = None
    system_serial: str | None = None
    system_uuid: str | None = None
    baseboard_manufacturer: str | None = None
    baseboard_product_name: str | None = None
    baseboard_version: str | None = None
    baseboard_serial: str | None = None
    chassis_manufacturer: str | None = None
    chassis_type: str | None = None
    chassis_version: str | None = None
    chassis_serial: str | None = None

    def stripped(self) -> dict[str, str | None]:
        """The strings without surrounding blanks, for the hardware object."""
        return {key: None if v is None else v.strip() for key, v in asdict(self).items()}


# dmidecode section titles, and the keys we keep from each (first block of each type only).
_SECTIONS = {
    "BIOS Information": "bios",
    "System Information": "system",
    "Base Board Information": "baseboard",
    "Chassis Information": "chassis",
}
_KEYS = {
    "Vendor": "vendor",
    "Release Date": "release_date",
    "Manufacturer": "manufacturer",
    "Product Name": "product_name",
    "Version": "version",
    "Serial Number": "serial",
    "UUID": "uuid",
    "Type": "type",
}
_FIELDS = frozenset(f.name for f in fields(DmiFacts))

# /sys/class/dmi/id file for each field, used when dmidecode is missing.
SYSFS_FILES = {
    "bios_vendor": "bios_vendor",
    "bios_version": "bios_version",
    "bios_release_date": "bios_date",
    "system_manufacturer": "sys_vendor",
    "system_product_name": "product_name",
    "system_version": "product_version",
    "system_serial": "product_serial",
    "system_uuid": "product_uuid",
    "baseboard_manufacturer": "board_vendor",
    "baseboard_product_name": "board_name",
    "baseboard_version": "board_version",
    "baseboard_serial": "board_serial",
    "chassis_manufacturer": "chassis_vendor",
    "chassis_version": "chassis_version",
    "chassis_serial": "chassis_serial",
}


def read() -> str:
    """The full dmidecode dump (one run covers BIOS, system, baseboard and chassis)."""
    return run.run(["dmidecode"], timeout=60)


def read_sysfs() -> DmiFacts:
    """The DMI strings the kernel exports; fields it does not export stay None."""
    values: dict[str, str] = {}
    for field_name, file_name in SYSFS_FILES.items():
        try:
            values[field_name] = run.read_sys(f"/sys/class/dmi/id/{file_name}").rstrip("\n")
        except OSError:
            continue
    return DmiFacts(**values)


def parse(text: str) -> Parsed[DmiFacts]:
    """The first BIOS, system, baseboard and chassis blocks of a dmidecode dump."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    section: str | None = None
    for line in text.splitlines():
        if not line.strip():
            section = None
            continue
        if not line[0].isspace():
            title = line.strip()
            section = _SECTIONS.get(title)
            if section in seen:
                section = None  # only the first block of a type describes the machine
            elif section is not None:
                seen.add(section)
            continue
        # Deeper indents are list items ("Characteristics:" and the like), not fields.
        if section is None or _indent(line) > 4:
            continue
        key, colon, value = line.lstrip(" \t").partition(":")
        name = f"{section}_{_KEYS.get(key.strip(), '')}"
        if colon and name in _FIELDS and name not in values:
            values[name] = value[1:] if value.startswith(" ") else value  # "Key: value", raw
    warnings = []
    if not seen:
        warnings.append("dmidecode output has no BIOS, System, Base Board or Chassis section")
    elif "system" not in seen:
        warnings.append("dmidecode output has no System Information (type 1) section")
    return Parsed(DmiFacts(**values), warnings)


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def collect(failures: list[Failure]) -> DmiFacts:
    """DMI facts from dmidecode, else from /sys/class/dmi/id; failures are recorded."""
    try:
        text = read()
    except run.RunError as exc:
        failures.append(Failure(NAME, "read", str(exc)))
    else:
        facts = parse_guarded(NAME, parse, text, failures, DmiFacts())
        if facts != DmiFacts():
            return facts
    facts = read_sysfs()
    if facts == DmiFacts():
        failures.append(Failure(NAME, "read", "/sys/class/dmi/id: no DMI strings readable"))
    return facts


def choose_serial(facts: DmiFacts) -> tuple[str | None, str | None]:
    """(serial, sn_source) from the first source in SERIAL_SOURCES that is not a placeholder."""
    for section, source in SERIAL_SOURCES:
        serial = clean_serial(getattr(facts, f"{section}_serial"))
        if serial is not None:
            return serial, source
    return None, None


# Trademark marks are dropped wherever they appear; company-form words only at the end of a
# manufacturer name, so "Quanta Cloud Technology Inc." keeps "Technology".
_MARKS = re.compile(r"\((?:r|tm|c)\)|[®™©]", re.IGNORECASE)
_COMPANY_WORDS = frozenset(
    {
        "ag",
        "co",
        "company",
        "computer",
        "computers",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "limited",
        "llc",
        "ltd",
        "plc",
    }
)


def tidy_manufacturer(name: str) -> str:
    """``"ASUSTeK COMPUTER INC."`` -> ``"ASUSTeK"``, ``"Intel(R) Client Systems"`` -> unchanged
    but for the mark. Never tidies a name down to nothing."""
    words = _tidy(name).split()
    while len(words) > 1 and words[-1].strip(",.").casefold() in _COMPANY_WORDS:
        words.pop()
    return " ".join(words).rstrip(",")


def _tidy(text: str) -> str:
    return " ".join(_MARKS.sub(" ", text).split())


def _real(value: str | None) -> str | None:
    """*value* stripped, or None when it is a firmware default ("To Be Filled By O.E.M.")."""
    return None if is_placeholder_serial(value) else _tidy(value or "")


def device_spec(facts: DmiFacts) -> str | None:
    """The tidy "manufacturer product" name the backend matches spec patterns against.

    System manufacturer and product name; the baseboard's when the system product name is a
    placeholder; Lenovo's model (in the Version field) before its machine-type product name.
    None when no product name is real.
    """
    maker, product = _real(facts.system_manufacturer), _real(facts.system_product_name)
    if product is None:
        maker, product = _real(facts.baseboard_manufacturer), _real(facts.baseboard_product_name)
    elif maker is not None and maker.casefold() == "lenovo":
        model = _real(facts.system_version)
        if model is not None and model.casefold() != product.casefold():
            product = f"{model} {product}"
    if product is None:
        return None
    if maker is None:
        return product
    maker = tidy_manufacturer(maker)
    if re.match(re.escape(maker) + r"(?:\W|$)", product, re.IGNORECASE):
        return product  # "HP" + "HP EliteDesk 800 G4": the product already names its maker
    return f"{maker} {product}"
