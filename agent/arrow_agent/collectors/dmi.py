"""DMI/SMBIOS facts: the raw strings, the serial number and its source, and the device spec name.

Owns running dmidecode (or reading ``/sys/class/dmi/id`` when dmidecode is missing or says
nothing), parsing its text in every layout from dmidecode 2.0 on (see ``records``), saying so in
a warning when a dump is not understood,
choosing the serial in the order of ``serials.SERIAL_SOURCES`` and the device_spec tidy rule
(see docs/agent.md). Knows nothing about networks or modems.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields

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


# The sections we keep, by SMBIOS structure type. dmidecode prints "DMI type N" in every handle
# header from 2.0 on; the titles are the fallback for output without handle lines and changed over
# the years ("... Information Block" before 2.0, "Platform Firmware Information" from 3.7).
_SECTIONS = {0: "bios", 1: "system", 2: "baseboard", 3: "chassis"}
_TITLE_TYPES = {
    "bios information": 0,
    "bios information block": 0,
    "platform firmware information": 0,
    "system information": 1,
    "system information block": 1,
    "base board information": 2,
    "board information block": 2,
    "chassis information": 3,
    "chassis information block": 3,
    "memory device": 17,
}
# Field names, current first; "Vendor"/"Product"/"Release"/"Chassis Type" are the pre-2.0 names.
_KEYS = {
    "Vendor": "manufacturer",
    "Release Date": "release_date",
    "Release": "release_date",
    "Manufacturer": "manufacturer",
    "Product Name": "product_name",
    "Product": "product_name",
    "Version": "version",
    "Serial Number": "serial",
    "UUID": "uuid",
    "Type": "type",
    "Chassis Type": "type",
}
_FIELDS = frozenset(f.name for f in fields(DmiFacts))
_HANDLE = re.compile(r"Handle (?:0x)?[0-9A-Fa-f]+(?:, DMI type (\d+))?")
_DMI_TYPE = re.compile(r"DMI type (\d+)")


@dataclass
class Record:
    """One SMBIOS structure as dmidecode printed it: its type, title and first-level fields.

    Field values are raw (trailing blanks kept); deeper lines (list items under
    "Characteristics:" and the like) are not fields.
    """

    type: int | None = None
    title: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    title_indent: int = 0
    field_indent: int | None = None


def records(text: str) -> list[Record]:
    """Every structure of a dmidecode dump, whatever its layout.

    Understands the one-line handle headers of 2.7 on ("Handle 0x0001, DMI type 1, 27 bytes"),
    the two-line ones of 2.0-2.6 ("Handle 0x0001" then an indented "DMI type 1, 25 bytes."),
    titles and fields indented by tabs or by any number of spaces, CRLF line ends, blank lines
    or none between records, and titles without any handle line. Never raises.
    """
    found: list[Record] = []
    current: Record | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        indent = _indent(line)
        handle = _HANDLE.match(stripped)
        if handle:
            current = Record(type=_int(handle.group(1)))
            found.append(current)
        elif current is not None and current.title is None:
            _head_line(current, stripped, indent)
        elif ":" not in stripped and stripped.casefold() in _TITLE_TYPES:
            current = Record(title=stripped, type=_TITLE_TYPES[stripped.casefold()])
            current.title_indent = indent
            found.append(current)
        elif current is not None:
            _field_line(current, line, indent)
    return found


def _head_line(record: Record, stripped: str, indent: int) -> None:
    """A line between a handle line and the first field: the DMI type line or the title."""
    dmi_type = _DMI_TYPE.match(stripped)
    if dmi_type:
        record.type = _int(dmi_type.group(1))
    elif ":" not in stripped:
        record.title, record.title_indent = stripped, indent
        if record.type is None:
            record.type = _TITLE_TYPES.get(stripped.casefold())


def _field_line(record: Record, line: str, indent: int) -> None:
    if indent < record.title_indent:
        return
    if record.field_indent is None:
        record.field_indent = indent
    if indent > record.field_indent:
        return  # a list item ("Characteristics:" and the like), not a field
    key, colon, value = line.lstrip(" \t").partition(":")
    if colon:
        record.fields.setdefault(key.strip(), value[1:] if value.startswith(" ") else value)


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


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
    """The BIOS, system, baseboard and chassis facts of a dmidecode dump, plus what was odd.

    Strings come from the first structure of each type. The serial comes from the first
    structure of its type whose serial is real, so a second System Information record (blade
    and multi-node firmware print one per node) is used when the first holds a placeholder.
    """
    found = records(text)
    values: dict[str, str] = {}
    for dmi_type, section in _SECTIONS.items():
        blocks = [record for record in found if record.type == dmi_type]
        if blocks:
            values.update(_section_values(section, blocks))
    return Parsed(DmiFacts(**values), _warnings(text, found))


def _section_values(section: str, blocks: list[Record]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in blocks[0].fields.items():
        name = f"{section}_{'vendor' if section == 'bios' and key == 'Vendor' else _KEYS.get(key)}"
        if name in _FIELDS:
            values.setdefault(name, value)
    serials = [b.fields["Serial Number"] for b in blocks if "Serial Number" in b.fields]
    real = [serial for serial in serials if not is_placeholder_serial(serial)]
    if real:
        values[f"{section}_serial"] = real[0]
    return values


def _warnings(text: str, found: list[Record]) -> list[str]:
    """Say when the dump was not understood, so a null serial is never silent."""
    kept = [record for record in found if record.type in _SECTIONS]
    if not kept:
        message = "dmidecode output has no BIOS, System, Base Board or Chassis section"
        fields_seen = sum(1 for line in text.splitlines() if ":" in line and line[:1] != "#")
        if not found and fields_seen:
            message += f" (layout not understood: {fields_seen} field lines outside any record)"
        return [message]
    systems = [record for record in kept if record.type == 1]
    if not systems:
        return ["dmidecode output has no System Information (type 1) section"]
    if not any(_KEYS.get(key) for key in systems[0].fields):
        return [
            "dmidecode System Information (type 1) section has no field this parser reads "
            f"(layout not understood: fields {sorted(systems[0].fields)[:5]})"
        ]
    return []


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))


def collect(failures: list[Failure], raw: list[str] | None = None) -> DmiFacts:
    """DMI facts from dmidecode, else from /sys/class/dmi/id; failures are recorded. The dump
    is appended to *raw* when given, so other collectors read it without running it again."""
    try:
        text = read()
    except run.RunError as exc:
        failures.append(Failure(NAME, "read", str(exc)))
    else:
        if raw is not None:
            raw.append(text)
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
