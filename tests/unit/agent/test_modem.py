"""The modem collector: ModemManager's answers, IMEI rules, polling, and sysfs detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrow_agent.collectors import Failure, modem
from arrow_agent.collectors.modem import SysHints
from tests.fakeroot import FIXTURES

MMCLI = FIXTURES / "mmcli"

# Each captured `mmcli -m N` (human layout) with the IMEI and model it shows. These are real
# identifiers: all of them pass the Luhn check.
MODEMS = {
    "huawei-e3276-m2.txt": ("863781013763835", "E3276"),
    "quectel-eg06-e-teltonika.txt": ("868759037579424", "EG06-E"),
    "quectel-eg916q-gl-comma.txt": ("868531061515115", "EG916Q-GL"),
    "quectel-rm520n-gl-m2.txt": ("868371050194659", "RM520N-GL"),
    "sierra-em7455-openwrt-m1.txt": ("359073060366386", "EM7455"),
    "simcom-qualcomm-pac6070-m0.txt": ("866802020119147", "0"),
    "telit-le910c4-eu-sim-missing.txt": ("351626102534010", "LE910C4-EU"),
}


def read(name: str) -> str:
    return (MMCLI / name).read_text()


@pytest.mark.parametrize(("name", "expected"), MODEMS.items(), ids=list(MODEMS))
def test_human_layout_gives_the_imei_and_model(name, expected):
    imei, model = expected
    assert modem.parse(read(name)).facts == imei
    assert modem.parse(read(name)).warnings == []
    assert modem.parse_keys(read(name))["modem.generic.model"] == model


def test_the_real_captured_imeis_pass_the_luhn_check():
    assert all(modem.luhn_ok(imei) for imei, _ in MODEMS.values())


@pytest.mark.parametrize(
    ("name", "indexes"),
    [("huawei-e3276-list.txt", [2]), ("simcom-qualcomm-pac6070-list.txt", [0])],
)
def test_modem_list_gives_the_indexes_and_no_imei(name, indexes):
    assert modem.parse_list(read(name)).facts == indexes
    assert modem.parse(read(name)).facts is None


def test_keyvalue_list_layout_and_no_modems():
    keyvalue = (
        "modem-list.length   : 2\n"
        "modem-list.value[1] : /org/freedesktop/ModemManager1/Modem/3\n"
        "modem-list.value[2] : /org/freedesktop/ModemManager1/Modem/0\n"
    )
    assert modem.parse_list(keyvalue).facts == [0, 3]
    assert modem.parse_list("No modems were found\n").facts == []


def test_keyvalue_layout_is_read_key_by_key():
    # The only -K capture is sanitised (see tests/fixtures/README.md): used for the layout only.
    keys = modem.parse_keys(read("fibocom-l850-gl-keyvalue.txt"))
    assert keys["modem.generic.manufacturer"] == "Fibocom Wireless Inc."
    assert keys["modem.generic.model"] == "L850-GL"
    assert keys["modem.generic.current-modes"] == "allowed: 3g, 4g; preferred: 4g"
    assert "modem.generic.carrier-configuration" not in keys  # "--" means empty


@pytest.mark.parametrize(
    ("keys", "imei", "warnings"),
    [
        ({"modem.3gpp.imei": "490154203237518"}, "490154203237518", []),
        ({"modem.generic.equipment-identifier": "490154203237518"}, "490154203237518", []),
        (
            {"modem.3gpp.imei": "490154203237518", "modem.generic.equipment-identifier": "A1"},
            "490154203237518",
            [],
        ),
        (
            {"modem.3gpp.imei": "490154203237517"},
            "490154203237517",
            ["IMEI 490154203237517 fails the Luhn check; sent anyway"],
        ),
        (
            {"modem.3gpp.imei": "49015420323751"},
            None,
            ["modem.3gpp.imei '49015420323751' is not a 15-digit IMEI; not sent"],
        ),
        (
            {"modem.generic.equipment-identifier": "A10000009296F2"},
            None,
            [
                "modem.generic.equipment-identifier 'A10000009296F2' "
                "is not a 15-digit IMEI; not sent"
            ],
        ),
        (
            {
                "modem.3gpp.imei": "4901542032375180",
                "modem.generic.equipment-identifier": "490154203237518",
            },
            "490154203237518",
            ["modem.3gpp.imei '4901542032375180' is not a 15-digit IMEI; not sent"],
        ),
        ({}, None, []),
    ],
    ids=[
        "3GPP IMEI",
        "equipment identifier when there is no 3GPP IMEI",
        "3GPP IMEI first",
        "Luhn failure is sent with a warning",
        "14 digits is not sent",
        "a CDMA MEID is not an IMEI",
        "16 digits falls back to the equipment identifier",
        "no identifier",
    ],
)
def test_imei_is_sent_only_when_exactly_15_digits(keys, imei, warnings):
    chosen = modem.choose_imei(keys)
    assert (chosen.facts, chosen.warnings) == (imei, warnings)


@given(st.text())
def test_mmcli_parsers_are_total_on_any_text(text):
    assert isinstance(modem.parse_list(text).facts, list)
    imei = modem.parse(text).facts
    assert imei is None or (len(imei) == 15 and imei.isdigit())


@pytest.mark.parametrize(
    ("hints", "evidence"),
    [
        (SysHints(), []),
        (SysHints(wwan_netdevs=["wwan0"]), ["network interface wwan0"]),
        (SysHints(wwan_ports=["wwan0at0"]), ["WWAN port wwan0at0"]),
        (SysHints(bound={"qmi_wwan": ["1-1:1.4"]}), ["driver qmi_wwan bound to 1-1:1.4"]),
        (SysHints(bound={"cdc_ncm": ["2-1:1.0"]}), []),
        (
            SysHints(bound={"cdc_ncm": ["2-1:1.0"]}, cdc_wdm=["cdc-wdm0"]),
            ["driver cdc_ncm bound to 2-1:1.0"],
        ),
    ],
    ids=[
        "nothing",
        "wwan interface",
        "kernel WWAN port",
        "modem driver bound",
        "cdc_ncm alone is a USB Ethernet adapter",
        "cdc_ncm next to a cdc-wdm port is a modem",
    ],
)
def test_sysfs_evidence_of_a_modem(hints, evidence):
    assert modem.modem_evidence(hints) == evidence


def usb_modem(root, driver: str = "qmi_wwan") -> None:
    root.file(f"/sys/bus/usb/drivers/{driver}/bind", "")
    root.link(f"/sys/bus/usb/drivers/{driver}/1-1:1.4", "../../../../devices/usb1/1-1/1-1:1.4")
    root.nic("wwan0", "", driver=driver, pci="0000:00:14.0")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_modem_manager_gives_has_modem_and_imei(fake_root):
    fake_root.fixture(["mmcli", "-L", "-K"], "mmcli/huawei-e3276-list.txt")
    fake_root.fixture(["mmcli", "-m", "2", "-K"], "mmcli/huawei-e3276-m2.txt")
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=30)
    assert (facts.has_modem, facts.imei, facts.source) == (True, "863781013763835", "mmcli")
    assert facts.modems == [modem.Modem(2, "huawei", "E3276", "863781013763835")]
    assert failures == []


def test_without_modem_manager_or_an_at_port_sysfs_decides_and_imei_is_null(fake_root):
    usb_modem(fake_root)
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=30)
    assert (facts.has_modem, facts.imei, facts.source) == (True, None, "sysfs")
    assert facts.evidence == ["network interface wwan0", "driver qmi_wwan bound to 1-1:1.4"]
    # No mmcli is the default image's design, no collection error; the missing port is one.
    assert [f.message for f in failures] == ["no AT port (/dev/wwan*at*, ttyUSB*, ttyACM*)"]


def test_without_modem_manager_or_modem_hardware_there_is_no_modem(fake_root):
    facts = modem.collect([], wait_s=30)
    assert (facts.has_modem, facts.imei, facts.source) == (False, None, "sysfs")


def test_no_modem_hardware_means_one_question_and_no_wait(fake_root):
    fake_root.command(["mmcli", "-L", "-K"], "No modems were found\n")
    clock = FakeClock()
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=30, clock=clock, sleep=clock.sleep)
    assert (facts.has_modem, facts.source) == (False, "mmcli")
    assert clock.sleeps == []
    assert failures == []


def test_modem_hardware_that_modem_manager_never_lists_is_reported_after_the_wait(fake_root):
    usb_modem(fake_root)
    fake_root.command(["mmcli", "-L", "-K"], "No modems were found\n")
    clock = FakeClock()
    failures: list[Failure] = []
    facts = modem.from_modem_manager(failures, wait_s=10, clock=clock, sleep=clock.sleep)
    assert (facts.has_modem, facts.imei, facts.source) == (True, None, "sysfs")
    assert clock.sleeps == [2.0] * 5
    assert failures == [
        Failure(
            "modem",
            "read",
            "no modem from ModemManager after 10 s; sysfs shows network interface wwan0; "
            "driver qmi_wwan bound to 1-1:1.4",
        )
    ]


def test_polling_stops_as_soon_as_modem_manager_finds_the_modem_late(fake_root, monkeypatch):
    usb_modem(fake_root)
    answers = iter(["No modems were found\n"] * 3 + [read("huawei-e3276-list.txt")])
    monkeypatch.setattr(modem, "read_list", lambda: next(answers))
    fake_root.fixture(["mmcli", "-m", "2", "-K"], "mmcli/huawei-e3276-m2.txt")
    clock = FakeClock()
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=30, clock=clock, sleep=clock.sleep)
    assert (facts.has_modem, facts.imei) == (True, "863781013763835")
    assert clock.sleeps == [2.0] * 3
    assert failures == []


def test_modem_manager_not_running_yet_is_retried_then_reported(fake_root, monkeypatch):
    usb_modem(fake_root)

    def not_running() -> str:
        raise modem.run.RunError("mmcli -L -K exited with status 1: couldn't find bus")

    monkeypatch.setattr(modem, "read_list", not_running)
    clock = FakeClock()
    failures: list[Failure] = []
    facts = modem.from_modem_manager(failures, wait_s=4, clock=clock, sleep=clock.sleep)
    assert (facts.has_modem, facts.source) == (True, "sysfs")
    assert clock.sleeps == [2.0, 2.0]
    assert [f.message for f in failures] == ["mmcli -L -K exited with status 1: couldn't find bus"]


def test_a_modem_whose_details_fail_still_counts(fake_root):
    fake_root.fixture(["mmcli", "-L", "-K"], "mmcli/simcom-qualcomm-pac6070-list.txt")
    failures: list[Failure] = []
    facts = modem.from_modem_manager(failures, wait_s=0)
    assert (facts.has_modem, facts.imei) == (True, None)
    assert [f.stage for f in failures] == ["read"]


def test_sysfs_hints_read_bound_usb_interfaces_not_driver_control_files(fake_root):
    usb_modem(fake_root, driver="option")
    fake_root.file("/sys/bus/usb/drivers/cdc_ncm/uevent", "")
    fake_root.link("/sys/class/usbmisc/cdc-wdm0", "../../devices/usb1/1-1/1-1:1.4/usbmisc/cdc-wdm0")
    hints = modem.read_sysfs()
    assert hints == SysHints(
        wwan_netdevs=["wwan0"], bound={"option": ["1-1:1.4"]}, cdc_wdm=["cdc-wdm0"]
    )
