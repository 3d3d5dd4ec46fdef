"""The spec check from a table: requirements and a device's facts in, readable mismatches out.
The hardware objects have the agent's shape (docs/agent.md)."""

from __future__ import annotations

import pytest

from inventory.errors import ValidationFailed
from inventory.services.speccheck import Facts, requirements_clean, spec_check

GIB = 1 << 30
NUC_CPU = {"model": "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", "cores": 4, "threads": 8}
NVME_512 = {"name": "nvme0n1", "size_bytes": 512_110_190_592, "transport": "nvme"}
SATA_256 = {"name": "sda", "size_bytes": 256_060_514_304, "transport": "sata"}
USB_STICK = {"name": "sdb", "size_bytes": 32_000_000_000, "transport": "usb"}
CARD_READER = {"name": "sdc", "size_bytes": 0, "transport": "usb"}
MODULES_2X8 = [{"slot": "DIMM 0", "size_mb": 8192}, {"slot": "DIMM 1", "size_mb": 8192}]
# MemTotal of a 16 GiB machine and of a 32 GiB one (firmware and kernel keep the rest).
MEMTOTAL_16 = 16_397_520_896
MEMTOTAL_32 = 33_514_094_592

NUC = {
    "cpu": NUC_CPU,
    "memory_bytes": MEMTOTAL_16,
    "memory_modules": MODULES_2X8,
    "disks": [NVME_512],
}


def facts(hardware=None, *, has_modem=False, nics=1) -> Facts:
    return Facts(hardware=NUC if hardware is None else hardware, has_modem=has_modem, nics=nics)


# (id, requirements, facts, expected messages)
CASES = [
    ("no requirements: nothing is checked", {}, facts({}), []),
    ("a NUC meets the NUC's requirements",
     {"cpu_pattern": "i5-1135G7", "min_cores": 4, "min_memory_gib": 16, "min_disks": 1,
      "min_disk_gb": 500, "min_nics": 1, "modem": False}, facts(), []),
    ("the CPU pattern is a case-insensitive regular expression searched in the model",
     {"cpu_pattern": r"core\(tm\) i[57]-11\d\dG7"}, facts(), []),
    ("a CPU that does not match is named",
     {"cpu_pattern": "Xeon"}, facts(),
     ["expected a CPU matching 'Xeon', found '11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz'"]),
    ("a CPU model not reported fails its pattern",
     {"cpu_pattern": "i5"}, facts({"cpu": {"model": None, "cores": 4}}),
     ["expected a CPU matching 'i5', not reported"]),
    ("too few cores",
     {"min_cores": 8}, facts(), ["expected 8 CPU cores, found 4"]),
    ("cores not reported (no cpu object)",
     {"min_cores": 2}, facts({"memory_bytes": MEMTOTAL_16}),
     ["expected 2 CPU cores, not reported"]),
    ("memory: the modules' total counts",
     {"min_memory_gib": 32}, facts(), ["expected 32 GiB memory, found 16 GiB"]),
    ("memory without modules: MemTotal a little under 32 GiB still meets 32 GiB",
     {"min_memory_gib": 32}, facts({"memory_bytes": MEMTOTAL_32}), []),
    ("memory without modules: MemTotal of 16 GiB does not meet 32 GiB",
     {"min_memory_gib": 32}, facts({"memory_bytes": MEMTOTAL_16}),
     ["expected 32 GiB memory, found 15.3 GiB"]),
    ("memory not reported",
     {"min_memory_gib": 16}, facts({"cpu": NUC_CPU, "memory_bytes": None}),
     ["expected 16 GiB memory, not reported"]),
    ("too few disks",
     {"min_disks": 2}, facts(), ["expected 2 disks, found 1"]),
    ("two disks, one of them too small",
     {"min_disks": 2, "min_disk_gb": 480}, facts({"disks": [NVME_512, SATA_256]}),
     ["expected 2 disks of at least 480 GB, found 1 (sizes: 512 GB, 256 GB)"]),
    ("a minimum size alone asks for one disk that big",
     {"min_disk_gb": 1000}, facts(),
     ["expected 1 disk of at least 1000 GB, found 0 (sizes: 512 GB)"]),
    ("disk sizes are decimal GB, as on the label: a 512 GB disk meets 512",
     {"min_disk_gb": 512}, facts(), []),
    ("a USB stick and an empty card reader are not disks of the machine",
     {"min_disks": 2}, facts({"disks": [NVME_512, USB_STICK, CARD_READER]}),
     ["expected 2 disks, found 1"]),
    ("an empty disk list is reported: no disk",
     {"min_disks": 1}, facts({"disks": []}), ["expected 1 disk, found 0"]),
    ("disks not reported",
     {"min_disks": 1}, facts({"cpu": NUC_CPU}), ["expected 1 disk, not reported"]),
    ("too few NICs",
     {"min_nics": 2}, facts(nics=1), ["expected 2 NICs, found 1"]),
    ("more NICs than asked is fine",
     {"min_nics": 2}, facts(nics=4), []),
    ("a modem required, none found",
     {"modem": True}, facts(has_modem=False), ["expected a modem, found none"]),
    ("no modem wanted, one found",
     {"modem": False}, facts(has_modem=True), ["expected no modem, found one"]),
    ("a modem required and present",
     {"modem": True}, facts(has_modem=True), []),
    ("odd hardware values are not reported, never an error",
     {"min_cores": 1, "min_memory_gib": 1, "min_disks": 1},
     facts({"cpu": "a string", "memory_bytes": True, "memory_modules": "x", "disks": {"a": 1}}),
     ["expected 1 CPU core, not reported", "expected 1 GiB memory, not reported",
      "expected 1 disk, not reported"]),
    ("every failure is listed, in a fixed order",
     {"min_memory_gib": 32, "min_disks": 2, "modem": True}, facts(),
     ["expected 32 GiB memory, found 16 GiB", "expected 2 disks, found 1",
      "expected a modem, found none"]),
]  # fmt: skip


@pytest.mark.parametrize(("requirements", "device", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_spec_check(requirements, device, expected):
    assert [m.message for m in spec_check(requirements_clean(requirements), device)] == expected


def test_each_mismatch_names_its_fact():
    found = spec_check({"min_memory_gib": 32, "min_nics": 3}, facts())
    assert [m.as_dict()["fact"] for m in found] == ["memory", "nics"]


# (id, requirements as typed, field named, words of the message)
BAD = [
    ("not an object", ["min_cores"], "requirements", "object"),
    ("an unknown requirement", {"min_memory_gb": 32}, "requirements.min_memory_gb", "unknown"),
    ("a regular expression that does not compile", {"cpu_pattern": "i5-(1135"},
     "requirements.cpu_pattern", "not a valid regular expression"),
    ("a backreference (RE2 matches in linear time and has none)", {"cpu_pattern": r"(a)\1"},
     "requirements.cpu_pattern", "not a valid regular expression"),
    ("a pattern that is not text", {"cpu_pattern": 5}, "requirements.cpu_pattern", "string"),
    ("a pattern with control characters", {"cpu_pattern": "i5\x1b"},
     "requirements.cpu_pattern", "control"),
    ("a pattern too long", {"cpu_pattern": "x" * 201}, "requirements.cpu_pattern", "longer"),
    ("zero cores", {"min_cores": 0}, "requirements.min_cores", "between 1 and 4096"),
    ("a negative memory", {"min_memory_gib": -1}, "requirements.min_memory_gib", "between"),
    ("a memory past any machine", {"min_memory_gib": 2**21}, "requirements.min_memory_gib",
     "between"),
    ("a count that is text", {"min_disks": "2"}, "requirements.min_disks", "whole number"),
    ("a count that is a boolean", {"min_nics": True}, "requirements.min_nics", "whole number"),
    ("a size that is a fraction", {"min_disk_gb": 1.5}, "requirements.min_disk_gb",
     "whole number"),
    ("a modem that is text", {"modem": "yes"}, "requirements.modem", "true, false or null"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "field", "words"), [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])  # fmt: skip
def test_bad_requirements_name_the_field(value, field, words):
    with pytest.raises(ValidationFailed) as caught:
        requirements_clean(value)
    assert caught.value.field == field
    assert words in caught.value.message


def test_every_bad_requirement_is_listed_at_once():
    with pytest.raises(ValidationFailed) as caught:
        requirements_clean({"min_cores": 0, "cpu_pattern": "(", "modem": 1})
    fields = [e["field"] for e in caught.value.extra["errors"]]
    assert fields == ["requirements.cpu_pattern", "requirements.min_cores", "requirements.modem"]


def test_clean_requirements_keep_only_what_is_set():
    typed = {"cpu_pattern": "  i5  ", "min_cores": None, "min_nics": 2, "modem": None}
    assert requirements_clean(typed) == {"cpu_pattern": "i5", "min_nics": 2}
    assert requirements_clean(None) == {}
    assert requirements_clean({"cpu_pattern": ""}) == {}


def test_a_pattern_that_would_backtrack_forever_in_python_is_matched_at_once():
    # (a|aa)+$ takes exponential time in a backtracking engine; RE2 does not backtrack.
    cpu = {"model": "a" * 250 + "!", "cores": 1}
    found = spec_check({"cpu_pattern": "(a|aa)+$"}, facts({"cpu": cpu}))
    assert found[0].fact == "cpu"


def test_a_stored_pattern_that_does_not_compile_fails_the_check_without_an_error():
    found = spec_check({"cpu_pattern": "i5-(1135"}, facts())
    assert [m.message for m in found] == [
        "expected a CPU matching 'i5-(1135': the pattern is not a valid regular expression"
    ]
