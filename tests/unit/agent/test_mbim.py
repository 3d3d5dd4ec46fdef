"""The MBIM reader, driven through a pseudo-terminal by a device replaying recorded answers.

The answers are MBIM messages from libmbim's parser tests (tests/fixtures/SOURCES.tsv): a Huawei
E367's DEVICE_CAPS, and a SUBSCRIBER_READY_STATUS. OPEN and CLOSE are answered with a bare
"done, status 0". Each answer gets the transaction id of the request it answers.
"""

from __future__ import annotations

import struct
import time

import pytest

from arrow_agent import run
from arrow_agent.collectors import Failure, mbim, modem
from tests.fakeroot import FIXTURES
from tests.unit.agent.ptydevice import PtyDevice, plugger

MBIM = FIXTURES / "mbim"
CAPS = (MBIM / "huawei-e367-device-caps-done.bin").read_bytes()
READY = (MBIM / "libmbim-subscriber-ready-status-done.bin").read_bytes()
READY_AS_PUBLISHED = (MBIM / "libmbim-subscriber-ready-status-as-published.bin").read_bytes()


class FakeMbimDevice(PtyDevice):
    """An MBIM function: answers by CID, or stays silent."""

    def __init__(self, answers: dict[int, bytes], *, silent: bool = False) -> None:
        self.answers, self.silent = answers, silent
        self.pending = b""
        self.heard: list[tuple[int, int]] = []  # (message type, cid or 0)
        super().__init__()

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        while len(self.pending) >= 12:
            length = struct.unpack_from("<I", self.pending, 4)[0]
            if len(self.pending) < length:
                return
            message, self.pending = self.pending[:length], self.pending[length:]
            self.reply(message)

    def reply(self, message: bytes) -> None:
        kind, _, tid = struct.unpack_from("<III", message)
        cid = struct.unpack_from("<I", message, 36)[0] if kind == 3 else 0
        self.heard.append((kind, cid))
        if self.silent or kind == 2:
            return
        if kind == 1:
            answer = struct.pack("<IIII", 0x80000001, 16, tid, 0)
        else:
            answer = self.answers.get(cid)
            if answer is None:  # MBIM_STATUS_NO_DEVICE_SUPPORT, an empty buffer
                answer = message[:36] + struct.pack("<III", cid, 9, 0)
                answer = struct.pack("<III", 0x80000003, 48, tid) + answer[12:]
        self.write(answer[:8] + struct.pack("<I", tid) + answer[12:])


@pytest.fixture
def plug(fake_root):
    """Plugs fake devices in as /dev/<name>, listed in /sys/class/wwan."""
    plug_in, devices = plugger(fake_root, "wwan", "234:1")
    yield plug_in
    for fake in devices:
        fake.close()


def test_device_caps_and_subscriber_status_give_imei_imsi_iccid_model_and_firmware(plug):
    device = FakeMbimDevice({1: CAPS, 2: READY})
    port = plug("wwan0mbim0", device)
    parsed = mbim.parse(port, mbim.read(port))
    assert parsed.warnings == []
    assert parsed.facts == mbim.AtFacts(
        port="/dev/wwan0mbim0",
        model="CP1E367UM",
        revision="11.810.09.00.00",
        imei="353613048804622",
        imsi="310410000110761",
        iccid="89010104054601100612",
    )
    deadline = time.monotonic() + 10  # the device thread reads CLOSE after the reader is done
    while len(device.heard) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert device.heard == [(1, 0), (3, 1), (3, 2), (2, 0)]  # OPEN, two queries, CLOSE


def test_a_modem_without_a_sim_still_gives_its_imei(plug):
    port = plug("wwan0mbim0", FakeMbimDevice({1: CAPS}))  # SUBSCRIBER_READY_STATUS refused
    parsed = mbim.parse(port, mbim.read(port))
    assert (parsed.facts.imei, parsed.facts.imsi, parsed.facts.iccid) == (
        "353613048804622",
        None,
        None,
    )
    assert parsed.warnings == ["/dev/wwan0mbim0: SUBSCRIBER_READY_STATUS: MBIM status 9"]


def test_a_string_beyond_the_declared_buffer_is_left_out(plug):
    # libmbim's vector declares 32 bytes less than it carries: the ICCID lies beyond the end.
    port = plug("wwan0mbim0", FakeMbimDevice({1: CAPS, 2: READY_AS_PUBLISHED}))
    facts = mbim.parse(port, mbim.read(port)).facts
    assert (facts.imsi, facts.iccid) == ("310410000110761", None)


def test_a_silent_port_is_given_up_in_bounded_time_with_a_failure(plug):
    plug("wwan0mbim0", FakeMbimDevice({}, silent=True))
    failures: list[Failure] = []
    started = time.monotonic()
    assert mbim.collect(failures, timeout=0.5) == []
    assert time.monotonic() - started < 5  # 0.5 s, with room for a loaded machine
    assert [f.message for f in failures] == ["/dev/wwan0mbim0: no answer to MBIM OPEN after 0.5 s"]


def test_garbage_is_a_parse_warning_not_a_crash():
    parsed = mbim.parse("/dev/cdc-wdm0", {"device_caps": b"\x03\x00\x00\x80" + b"\xff" * 60})
    assert parsed.facts.imei is None
    assert parsed.warnings


def test_an_mbim_only_modem_reports_its_imei_by_default(plug, fake_root):
    plug("wwan0mbim0", FakeMbimDevice({1: CAPS, 2: READY}))
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=0)
    assert (facts.has_modem, facts.imei, facts.source) == (True, "353613048804622", "mbim")
    hardware = facts.as_hardware()
    assert (hardware["imsi"], hardware["iccid"], hardware["model"]) == (
        "310410000110761",
        "89010104054601100612",
        "CP1E367UM",
    )
    assert run.get_root() is not None
