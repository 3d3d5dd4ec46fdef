"""The DMI collector: every captured dmidecode dump, the serial order, the device_spec rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.collectors import Failure, dmi
from arrow_agent.collectors.dmi import DmiFacts
from tests.fakeroot import FIXTURES

DUMPS = FIXTURES / "dmidecode"

# Every dump in tests/fixtures/dmidecode, with the serial, sn_source and device_spec read off
# the dump by hand. linuxhw dumps have every serial anonymised to "--" (a placeholder).
EXPECTED = {
    "asrock-b450-gaming-k4.txt": (None, None, "ASRock B450 Gaming K4"),
    "asus-m3a78-cm-junk-crlf.txt": ("MF7097G05100710", "bios", "ASUSTeK M3A78-CM"),
    "asus-nuc14rvh-b.txt": (None, None, "ASUSTeK NUC14RVH-B"),
    "asus-p5q-junk-system-serial.txt": ("MS1C93BB0H00980", "bios", "ASUSTeK P5Q"),
    "aws-xen-hvm-domu-vm.txt": (
        "ec2f58af-2dad-c57e-88c0-a81cb6084290",
        "dmidecode",
        "Xen HVM domU",
    ),
    "dell-optiplex-7060.txt": (None, None, "Dell OptiPlex 7060"),
    "dell-optiplex-fx160-space-indent.txt": ("C83T54J", "dmidecode", "Dell OptiPlex FX160"),
    "dell-poweredge-r640.txt": ("2RJF153", "dmidecode", "Dell PowerEdge R640"),
    "gigabyte-b365-hd3.txt": (None, None, "Gigabyte Technology B365 HD3"),
    "hp-elitedesk-800-g4-dm.txt": (None, None, "HP EliteDesk 800 G4 DM 35W (TAA)"),
    "hp-proliant-dl120-g6-junk.txt": (None, None, "HP ProLiant DL120 G6"),
    "hp-proliant-dl360p-gen8.txt": ("USE2236835", "dmidecode", "HP ProLiant DL360p Gen8"),
    "hp-proliant-m710x-cartridge.txt": (
        "CN66480BLA",
        "dmidecode",
        "HP ProLiant m710x Server Cartridge",
    ),
    "hyperv-vm.txt": ("2349-2347-2234-2340-2341-3240-48", "dmidecode", "Microsoft Virtual Machine"),
    "intel-nuc11pahi7.txt": (None, None, "Intel Client Systems NUC11PAHi7"),
    "intel-nuc11tnbv7-board.txt": (None, None, "Intel NUC11TNBv7"),
    "intel-nuc11tnhi5.txt": (None, None, "Intel Client Systems NUC11TNHi5"),
    "intel-nuc11tnhv5.txt": (None, None, "Intel Client Systems NUC11TNHv5"),
    "intel-nuc11tnki5.txt": (None, None, "Intel Client Systems NUC11TNKi5"),
    "intel-s3000ahlx-server-board.txt": ("AZAX63801455", "bios", "Intel S3000AHLX"),
    "intel-s5000vsa-dots-serial.txt": ("QSSA64700622", "bios", "Intel MP Server"),
    "kvm-rhel65-crlf-vm.txt": (None, None, "Red Hat KVM"),
    "lenovo-thinkpad-edge-e320.txt": ("LR9NKZ7", "dmidecode", "LENOVO ThinkPad Edge E320 1298A8G"),
    "lenovo-thinkpad-t14-gen2a.txt": (None, None, "LENOVO ThinkPad T14 Gen 2a 20XK000YHV"),
    "onlinelabs-sr-junk-chassis.txt": ("42", "dmidecode", "Online Labs SR"),
    "oracle-server-x5-2.txt": ("1634NM1107", "dmidecode", "ORACLE SERVER X5-2"),
    "qct-quantamicro-x10e-9n.txt": (
        "QTFCQ57140285",
        "dmidecode",
        "Quanta Cloud Technology QuantaMicro X10E-9N",
    ),
    "qemu-nuc11tnhi5-smbios-placeholder-system-serial.txt": (
        "BTTN20900ABC",
        "bios",
        "Intel Client Systems NUC11TNHi5",
    ),
    "qemu-q35-lxd-vm.txt": (None, None, "QEMU Standard PC (Q35 + ICH9, 2009)"),
    "redhat-kvm-rhel94-vm.txt": (None, None, "Red Hat KVM"),
    "rhev-kvm-vm.txt": (
        "34353737-3035-4E43-3734-353130425732",
        "dmidecode",
        "Red Hat RHEV Hypervisor",
    ),
    "simplynuc-nuc11tzi7gre.txt": (None, None, "Simply NUC NUC11TZi7GRE"),
    "sun-fire-x2200-m2.txt": ("0732QBT057", "dmidecode", "Sun Microsystems Sun Fire X2200 M2"),
    "supermicro-as-1014s-wtrt.txt": (None, None, "Supermicro AS -1014S-WTRT"),
    "supermicro-ssg-6028r.txt": ("S212101X7A18218", "dmidecode", "Supermicro SSG-6028R-OSD072P"),
    "supermicro-sys-6018r.txt": ("A177950X7709591", "dmidecode", "Supermicro SYS-6018R-TDTPR"),
    "toshiba-satellite-2410.txt": ("X2735244G", "dmidecode", "TOSHIBA Satellite 2410"),
    "via-cn700-all-blank.txt": (None, None, "CN700-8237R"),
    "virtualbox-vm.txt": (None, None, "innotek VirtualBox"),
    "vmware-esx-vm.txt": (
        "VMware-42 30 bf 6a ce 71 e1 68-6c 2d 17 6e 66 d0 4a 0d",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    "vmware-vm-no-header.txt": (
        "VMware-42 1a ee 9a 8e 13 ee e5-fc ec 82 3d cd 74 76 94",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    # Older and differently laid out dumps (glpi-agent's resources, nixos-facter issues).
    "apple-macmini-2014-dmidecode37-platform-firmware.txt": (None, None, None),
    "asus-windows7-junk-crlf.txt": ("MT7013K30709271", "bios", "ASUSTeK P8P67"),
    "dell-fc640-two-base-boards-excerpt.txt": (None, None, "Dell 05YC4P"),
    "dell-latitude-d610-dmidecode28.txt": ("D8XD62J", "dmidecode", "Dell Latitude D610"),
    "dell-optiplex-fx170-blank-system-serial.txt": ("DHN39Q1", "chassis", "Dell OptiPlex FX170"),
    "dell-poweredge-1600sc-dmidecode210-8-space.txt": (
        "4V2VW0J",
        "dmidecode",
        "Dell PowerEdge 1600SC",
    ),
    "dell-poweredge-1800-dmidecode26-8-space.txt": ("2K1012J", "dmidecode", "Dell PowerEdge 1800"),
    "dell-poweredge-r630.txt": ("2WF88P2", "dmidecode", "Dell PowerEdge R630"),
    "dell-poweredge-r640-second.txt": ("6J29H63", "dmidecode", "Dell PowerEdge R640"),
    "dell-poweredge-r710.txt": ("861YZ4J", "dmidecode", "Dell PowerEdge R710"),
    "dell-poweredge-r720xd.txt": ("7PPDY12", "dmidecode", "Dell PowerEdge R720xd"),
    "dell-precision-m4400-crlf.txt": ("HLG964J", "dmidecode", "Dell Precision M4400"),
    "hp-pavilion-dv6-dmidecode210.txt": (
        "CNF01207X6",
        "dmidecode",
        "Hewlett-Packard HP Pavilion dv6 Notebook PC",
    ),
    "hp-proliant-dl180-g6.txt": ("CZJ02901TG", "dmidecode", "HP ProLiant DL180 G6"),
    "hp-proliant-dl360-g7-second.txt": ("CZJ1280RMQ", "dmidecode", "HP ProLiant DL360 G7"),
    "hp-proliant-dl360-g7.txt": ("CZJ1280RQ2", "dmidecode", "HP ProLiant DL360 G7"),
    "hp-proliant-ml350-g5-dmidecode22.txt": ("GB8814HE7S", "dmidecode", "HP ProLiant ML350 G5"),
    "hyperv-2019-vm-8-space.txt": (
        "3135-4298-3414-7021-8716-7514-85",
        "dmidecode",
        "Microsoft Virtual Machine",
    ),
    "ibm-8649-dmidecode22-two-line-handle.txt": ("KDMAH1Y", "dmidecode", "IBM -[86494jg]-"),
    "ibm-x205-rhel21-information-block.txt": ("KBKGW40", "dmidecode", "IBM -[84803AX]-"),
    "ibm-x226-dmidecode22-two-line-handle.txt": (
        "KDXPC16",
        "dmidecode",
        "IBM eServer x226-[8488PCR]-",
    ),
    "microsoft-surface-go-2-no-blank-lines.txt": (
        "48368130c2f8",
        "dmidecode",
        "Microsoft Surface Go 2",
    ),
    "oracle-server-x5-2-oda.txt": ("1634NM1100", "dmidecode", "ORACLE SERVER X5-2"),
    "via-vt82c691-legacy-dmi20-8-space.txt": (None, None, "VIA Technologies VT82C691"),
    "virtualbox-dmidecode22-8-space-indent.txt": (None, None, "innotek VirtualBox"),
    "vmware-dmidecode27-vm.txt": (
        "VMware-50 0c 23 94 04 63 a1 3c-0d d4 f5 37 a6 bb f0 a6",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    "vmware-esx-rhel63-vm.txt": (
        "VMware-56 4d 60 49 9d 7d 6e 8b-4a 41 7b 2d b1 47 ab a7",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    "vmware-esx25-information-block.txt": (
        "VMware-56 4d db dd 11 e3 8d 66-84 9e 15 8e 49 23 7c 97",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    "vmware-rhel62-vm.txt": (
        "VMware-42 1b ba bd 5f 4e af 7e-3a 56 b5 af 1c e1 a9 77",
        "dmidecode",
        "VMware Virtual Platform",
    ),
    "windows-2008-crlf-two-cpus.txt": (None, None, None),
    "windows-2019-amd-epyc.txt": (None, None, None),
}

# Dumps that must say why they give no serial: a warning, never silent nulls.
WARNINGS = {
    "apple-macmini-2014-dmidecode37-platform-firmware.txt": "no System Information (type 1)",
    "dell-fc640-two-base-boards-excerpt.txt": "no System Information (type 1)",
    "windows-2008-crlf-two-cpus.txt": "no BIOS, System, Base Board or Chassis section",
    "windows-2019-amd-epyc.txt": "no BIOS, System, Base Board or Chassis section",
}


def parse_dump(name: str) -> DmiFacts:
    parsed = dmi.parse((DUMPS / name).read_bytes().decode("utf-8"))
    expected = [WARNINGS[name]] if name in WARNINGS else []
    assert [w for w in parsed.warnings for e in expected if e in w] == parsed.warnings
    assert len(parsed.warnings) == len(expected)
    return parsed.facts


def test_every_dump_in_the_fixtures_has_a_row_in_the_table():
    assert sorted(p.name for p in DUMPS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_dump_gives_the_serial_source_and_spec_read_off_it_by_hand(name, expected):
    facts = parse_dump(name)
    assert (*dmi.choose_serial(facts), dmi.device_spec(facts)) == expected


# Layouts seen in the wild, and the raw fields read off each dump by hand.
LAYOUTS = {
    "hp-proliant-dl360p-gen8.txt": {  # raw strings keep their padding; no base board section
        "system_serial": "USE2236835      ",
        "baseboard_serial": None,
        "baseboard_manufacturer": None,
        "chassis_type": "Rack Mount Chassis",
    },
    "asus-m3a78-cm-junk-crlf.txt": {  # CRLF: no carriage return in the values
        "system_manufacturer": "System manufacturer",
        "baseboard_serial": "MF7097G05100710",
    },
    "dell-optiplex-fx160-space-indent.txt": {  # four spaces read like a tab
        "system_product_name": "OptiPlex FX160               ",
        "baseboard_serial": "..CN701638BM00EW.                  ",
        "bios_vendor": "Dell Inc.",
    },
    "vmware-vm-no-header.txt": {"system_manufacturer": "VMware, Inc."},
    "ibm-x205-rhel21-information-block.txt": {  # "Information" blocks, Vendor/Product keys
        "system_manufacturer": "IBM",
        "system_product_name": "-[84803AX]-",
        "baseboard_serial": "NA60B7Y0S3Q",
        "bios_vendor": "IBM",
        "bios_release_date": "12/11/2002",
        "chassis_type": "Mini Tower",
    },
    "apple-macmini-2014-dmidecode37-platform-firmware.txt": {  # "Platform Firmware" is the BIOS
        "bios_vendor": "Apple Inc.",
        "bios_version": "481.0.0.0.0",
    },
    "microsoft-surface-go-2-no-blank-lines.txt": {  # records kept apart without blank lines
        "bios_version": "1.0.05",
        "system_serial": "48368130c2f8",
        "baseboard_serial": "002460202151",
    },
}


@pytest.mark.parametrize(("name", "fields"), LAYOUTS.items(), ids=list(LAYOUTS))
def test_each_layout_gives_the_raw_fields_read_off_it_by_hand(name, fields):
    facts = parse_dump(name)
    assert {field: getattr(facts, field) for field in fields} == fields


def test_the_serial_is_stripped_of_the_raw_strings_padding():
    assert dmi.choose_serial(parse_dump("hp-proliant-dl360p-gen8.txt")) == (
        "USE2236835",
        "dmidecode",
    )


def test_empty_value_without_space_after_colon_is_an_empty_string():
    text = "Base Board Information\n\tManufacturer: HP\n\tSerial Number:\n"
    assert dmi.parse(text).facts.baseboard_serial == ""


def test_only_the_first_block_of_a_type_counts():
    text = (
        "Handle 0x0002, DMI type 2, 15 bytes\nBase Board Information\n\tSerial Number: FIRST\n\n"
        "Handle 0x0003, DMI type 2, 15 bytes\nBase Board Information\n\tSerial Number: SECOND\n"
    )
    assert dmi.parse(text).facts.baseboard_serial == "FIRST"


def test_nested_list_items_are_not_fields():
    text = "BIOS Information\n\tVendor: AMI\n\tCharacteristics:\n\t\tVersion: not a field\n"
    facts = dmi.parse(text).facts
    assert facts.bios_vendor == "AMI"
    assert facts.bios_version is None


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("", "no BIOS, System, Base Board or Chassis section"),
        ("# dmidecode 3.4\n# No SMBIOS nor DMI entry point found, sorry.\n", "no BIOS, System"),
        ("Chassis Information\n\tSerial Number: X\n", "no System Information (type 1) section"),
    ],
    ids=["empty output", "no SMBIOS entry point", "chassis only"],
)
def test_output_without_sections_is_a_warning_not_an_error(text, warning):
    parsed = dmi.parse(text)
    assert len(parsed.warnings) == 1
    assert warning in parsed.warnings[0]


@given(st.text())
def test_parse_is_total_on_any_text(text):
    parsed = dmi.parse(text)
    assert isinstance(parsed.facts, DmiFacts)


@pytest.mark.parametrize(
    ("serials", "expected"),
    [
        (("SYS1", "BOARD1", "CHAS1"), ("SYS1", "dmidecode")),
        (("To Be Filled By O.E.M.", "BOARD1", "CHAS1"), ("BOARD1", "bios")),
        (("0", "  ", "CHAS1"), ("CHAS1", "chassis")),
        (("System Serial Number", "0123456789", "Chassis Serial Number"), (None, None)),
        ((None, None, None), (None, None)),
        (("  SYS1  ", None, None), ("SYS1", "dmidecode")),
    ],
    ids=[
        "system serial wins",
        "placeholder system serial falls to baseboard",
        "junk system and blank baseboard fall to chassis",
        "all placeholders give none",
        "all absent give none",
        "serial is stripped",
    ],
)
def test_serial_comes_from_the_first_real_source(serials, expected):
    system, board, chassis = serials
    facts = DmiFacts(system_serial=system, baseboard_serial=board, chassis_serial=chassis)
    assert dmi.choose_serial(facts) == expected


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("Intel(R) Client Systems", "Intel Client Systems"),
        ("Intel Corporation", "Intel"),
        ("ASUSTeK COMPUTER INC.", "ASUSTeK"),
        ("Gigabyte Technology Co., Ltd.", "Gigabyte Technology"),
        ("VMware, Inc.", "VMware"),
        ("innotek GmbH", "innotek"),
        ("Quanta Cloud Technology Inc.", "Quanta Cloud Technology"),
        ("Acme™ Widgets®", "Acme Widgets"),
        ("Computer Inc.", "Computer"),
        ("Sun Microsystems", "Sun Microsystems"),
    ],
)
def test_manufacturer_loses_marks_and_company_words_at_its_end(raw, tidy):
    assert dmi.tidy_manufacturer(raw) == tidy


@pytest.mark.parametrize(
    ("facts", "spec"),
    [
        (
            DmiFacts(
                system_manufacturer="Intel(R) Client Systems", system_product_name="NUC11TNHi5"
            ),
            "Intel Client Systems NUC11TNHi5",
        ),
        (
            DmiFacts(
                system_manufacturer="Intel(R) Client Systems",
                system_product_name="                ",
                baseboard_manufacturer="Intel Corporation",
                baseboard_product_name="NUC11TNBv7",
            ),
            "Intel NUC11TNBv7",
        ),
        (
            DmiFacts(system_manufacturer="HP", system_product_name="HP EliteDesk 800"),
            "HP EliteDesk 800",
        ),
        (DmiFacts(system_manufacturer="To Be Filled By O.E.M.", system_product_name="X1"), "X1"),
        (
            DmiFacts(
                system_manufacturer="LENOVO",
                system_product_name="20XK000YHV",
                system_version="ThinkPad T14 Gen 2a",
            ),
            "LENOVO ThinkPad T14 Gen 2a 20XK000YHV",
        ),
        (
            DmiFacts(
                system_manufacturer="LENOVO", system_product_name="20XK", system_version="None"
            ),
            "LENOVO 20XK",
        ),
        (DmiFacts(system_manufacturer="Dell Inc.", system_product_name="Not Specified"), None),
        (DmiFacts(), None),
    ],
    ids=[
        "manufacturer and product",
        "placeholder product falls to the baseboard",
        "product already names its maker",
        "placeholder manufacturer is left out",
        "Lenovo model from Version before the machine type",
        "Lenovo placeholder Version is left out",
        "no real product name anywhere",
        "nothing at all",
    ],
)
def test_device_spec_rule(facts, spec):
    assert dmi.device_spec(facts) == spec


def test_device_spec_of_the_nuc_matches_the_backend_pattern_case_insensitively():
    spec = dmi.device_spec(parse_dump("intel-nuc11tnhi5.txt"))
    assert "nuc11tn" in spec.casefold()


def test_collect_reads_dmidecode_when_it_is_there(fake_root):
    fake_root.fixture(["dmidecode"], "dmidecode/dell-poweredge-r640.txt")
    failures: list[Failure] = []
    facts = dmi.collect(failures)
    assert dmi.choose_serial(facts) == ("2RJF153", "dmidecode")
    assert failures == []


def test_collect_falls_back_to_sysfs_when_dmidecode_is_missing(fake_root):
    for path in (FIXTURES / "sysfs/qemu-nuc11tnhi5-dmi-id").iterdir():
        fake_root.file(f"/sys/class/dmi/id/{path.name}", path.read_bytes())
    failures: list[Failure] = []
    facts = dmi.collect(failures)
    assert dmi.choose_serial(facts) == ("BTTN20900ABC", "bios")
    assert dmi.device_spec(facts) == "Intel Client Systems NUC11TNHi5"
    assert facts.bios_release_date == "02/17/2022"
    assert failures == [Failure("dmi", "read", failures[0].message)]
    assert "dmidecode: command not found" in failures[0].message


def test_collect_falls_back_to_sysfs_when_dmidecode_finds_no_table(fake_root):
    fake_root.command(["dmidecode"], "# dmidecode 3.4\n# No SMBIOS nor DMI entry point found.\n")
    fake_root.dmi_id(product_serial="SN-FROM-SYSFS")
    failures: list[Failure] = []
    assert dmi.choose_serial(dmi.collect(failures)) == ("SN-FROM-SYSFS", "dmidecode")
    assert [(f.collector, f.stage) for f in failures] == [("dmi", "parse")]


def test_collect_without_any_dmi_source_records_both_failures(fake_root):
    failures: list[Failure] = []
    assert dmi.collect(failures) == DmiFacts()
    assert [f.stage for f in failures] == ["read", "read"]
    assert "/sys/class/dmi/id" in failures[1].message


def test_two_line_handle_headers_give_the_type_of_each_record():
    found = dmi.records((DUMPS / "ibm-x226-dmidecode22-two-line-handle.txt").read_text())
    system = next(record for record in found if record.type == 1)
    assert system.title == "System Information"
    assert system.fields["Serial Number"] == "KDXPC16"


def _reindent(text: str, base: str, step: str, newline: str) -> str:
    """The dump with every line moved right by *base*, each tab level made *step*, and its
    line ends changed."""
    lines = []
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        lines.append(base + step * depth + line.lstrip("\t") if line.strip() else "")
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    ("base", "step", "newline"),
    [("", "\t", "\r\n"), ("", "  ", "\n"), (" " * 8, " " * 8, "\n"), ("\t", "\t", "\r\n")],
    ids=["tabs and CRLF", "two spaces", "whole dump indented by 8 spaces", "whole dump by a tab"],
)
def test_any_consistent_indentation_and_line_end_reads_the_same(base, step, newline):
    text = (DUMPS / "dell-poweredge-r640.txt").read_text()
    expected = dmi.parse(text).facts
    parsed = dmi.parse(_reindent(text, base, step, newline))
    assert parsed.facts == expected
    assert parsed.warnings == []


def test_a_second_system_record_gives_the_serial_when_the_first_is_a_placeholder():
    text = (
        "Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: Acme\n"
        "\tProduct Name: Sled\n\tSerial Number: To Be Filled By O.E.M.\n\n"
        "Handle 0x0011, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: Other\n"
        "\tSerial Number: NODE2SERIAL\n"
    )
    facts = dmi.parse(text).facts
    assert (facts.system_manufacturer, facts.system_serial) == ("Acme", "NODE2SERIAL")


def test_several_base_boards_use_the_first_one_for_the_spec():
    facts = parse_dump("dell-fc640-two-base-boards-excerpt.txt")
    assert facts.baseboard_product_name == "05YC4P"
    assert dmi.choose_serial(facts) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        "Handle 0x0001, DMI type 1, 27 bytes\nSysteminformationen\n\tHersteller: Acme\n"
        "\tSeriennummer: 123\n",
        "Fabricant: Acme\nNuméro de série: 4711\nVersion du BIOS: 1.0\n",
    ],
    ids=["type 1 record with unknown field names", "fields outside any record"],
)
def test_a_layout_that_is_not_understood_is_reported(text):
    parsed = dmi.parse(text)
    assert parsed.facts.system_serial is None
    assert len(parsed.warnings) == 1
    assert "layout not understood" in parsed.warnings[0]


def test_collect_reports_a_dump_it_cannot_read_in_collection_errors(fake_root):
    fake_root.command(["dmidecode"], "Fabricant: Acme\nNuméro de série: 4711\n")
    failures: list[Failure] = []
    dmi.collect(failures)
    assert any("layout not understood" in f.message for f in failures if f.stage == "parse")
