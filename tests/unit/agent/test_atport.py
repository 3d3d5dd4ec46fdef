"""The AT-port reader, driven through a pseudo-terminal by a modem replaying real transcripts.

Each fake modem answers from transcripts in tests/fixtures/at (a line starting with "AT" is a
command, the lines after it its answer; an excerpt cut before its result code gets "OK"); any
other command gets "ERROR", as a modem says for commands it does not know.
"""

from __future__ import annotations

import time

import pytest

from arrow_agent import run
from arrow_agent.collectors import Failure, atport, modem
from tests.fakeroot import FIXTURES
from tests.unit.agent.ptydevice import PtyDevice, plugger

AT = FIXTURES / "at"


def transcript(*names: str) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    command = None
    for name in names:
        for line in (AT / name).read_text().splitlines():
            if line.startswith("AT"):
                command = line.strip()
                answers[command] = []
            elif command is not None:
                answers[command].append(line)
    for lines in answers.values():
        if not any(line.strip() in ("OK", "ERROR") for line in lines):
            lines.append("OK")
    return answers


class FakeModem(PtyDevice):
    """A modem: echo (optionally deaf to ATE0), delay, or silence."""

    def __init__(self, answers, *, echo=True, obey_ate0=True, delay=0.0, silent=False):
        self.answers = {"AT": ["OK"], "ATE0": ["OK"], **answers}
        self.echo, self.obey_ate0, self.delay, self.silent = echo, obey_ate0, delay, silent
        self.pending = b""
        self.heard: list[str] = []
        super().__init__()

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        while b"\r" in self.pending:
            line, _, self.pending = self.pending.partition(b"\r")
            self.reply(line.decode().strip())

    def reply(self, command: str) -> None:
        self.heard.append(command)
        if self.silent:
            return
        if self.delay:
            time.sleep(self.delay)  # the modem's slowness itself, not synchronisation
        out = f"{command}\r" if self.echo else ""
        if command == "ATE0" and self.obey_ate0:
            self.echo = False
        lines = self.answers.get(command, ["ERROR"])
        out += "\r\n" + "\r\n".join(lines) + "\r\n"
        self.write(out.encode())


@pytest.fixture
def plug(fake_root):
    """Plugs fake modems in as /dev/<name> of the fake machine; unplugs them afterwards."""
    plug_in, modems = plugger(fake_root, "tty", "188:2")
    yield plug_in
    for fake in modems:
        fake.close()


SIM868 = ("simcom-sim868-echo-gsn.txt", "simcom-sim868-echo-bare-iccid.txt")
SIM7600 = ("simcom-sim7600-echo-quoted-cgsn.txt", "gammu-cimi-imsi.txt")


def test_echoing_modem_gives_imei_by_the_fallback_command_and_a_padded_iccid(plug):
    fake = FakeModem(transcript(*SIM868))
    port = plug("ttyUSB2", fake)
    parsed = atport.parse(port, atport.read(port))
    assert parsed.facts.imei == "868183038764457"
    assert parsed.facts.iccid == "8944501810180244540"
    assert parsed.facts.imsi is None  # AT+CIMI answered ERROR
    assert "AT+GSN" in fake.heard  # AT+CGSN said ERROR first
    assert parsed.warnings == []


def test_quoted_prefixed_answers_give_imei_imsi_iccid_and_model(plug):
    answers = transcript(*SIM7600, "ublox-mkrnb-ccid-prefixed.txt", "quectel-ec25-cgmm.txt")
    port = plug("ttyUSB2", FakeModem(answers))
    facts = atport.parse(port, atport.read(port)).facts
    assert (facts.imei, facts.imsi, facts.iccid, facts.model) == (
        "869777028421538",
        "260034666320415",
        "8901260882217768982",
        "EC25",
    )


def test_a_modem_that_keeps_echoing_after_ate0_is_read_the_same(plug):
    port = plug("ttyUSB2", FakeModem(transcript(*SIM868), obey_ate0=False))
    assert atport.parse(port, atport.read(port)).facts.imei == "868183038764457"


def test_a_slow_modem_is_waited_for_within_the_command_timeout(plug):
    port = plug("ttyUSB2", FakeModem(transcript(*SIM868), delay=0.3))
    assert atport.parse(port, atport.read(port, timeout=3)).facts.imei == "868183038764457"


def test_a_silent_port_is_given_up_in_bounded_time_with_a_failure(fake_root, plug):
    plug("ttyUSB0", FakeModem({}, silent=True))
    failures: list[Failure] = []
    started = time.monotonic()
    assert atport.collect(failures, timeout=0.5, deadline_s=5) == []
    assert time.monotonic() - started < 5  # generous: one 0.5 s probe
    assert [f.message for f in failures] == ["/dev/ttyUSB0: no answer to AT after 0.5 s"]


def test_ports_are_tried_in_turn_until_one_gives_an_imei(plug):
    silent = FakeModem({}, silent=True)
    plug("ttyUSB0", silent)
    plug("ttyUSB2", FakeModem(transcript(*SIM868)))
    failures: list[Failure] = []
    found = atport.collect(failures, timeout=0.5)
    assert [f.port for f in found] == ["/dev/ttyUSB2"]
    assert [f.message for f in failures] == ["/dev/ttyUSB0: no answer to AT after 0.5 s"]


def test_wwan_at_ports_come_before_serial_ttys(fake_root):
    for name in ("ttyACM0", "ttyUSB10", "ttyUSB2", "ttyS0"):
        fake_root.file(f"/sys/class/tty/{name}/dev", "")
    for name in ("wwan0at0", "wwan0mbim0", "wwan0qcdm0"):
        fake_root.file(f"/sys/class/wwan/{name}/dev", "")
    assert atport.ports() == ["/dev/wwan0at0", "/dev/ttyACM0", "/dev/ttyUSB2", "/dev/ttyUSB10"]


def test_default_collection_reads_the_imei_over_at_without_modem_manager(fake_root, plug):
    fake_root.file("/sys/bus/usb/drivers/option/bind", "")
    fake_root.link("/sys/bus/usb/drivers/option/1-1:1.2", "../../../../devices/usb1/1-1/1-1:1.2")
    plug("ttyUSB2", FakeModem(transcript(*SIM7600)))
    failures: list[Failure] = []
    facts = modem.collect(failures, wait_s=0)
    assert (facts.has_modem, facts.imei, facts.source) == (True, "869777028421538", "at")
    assert facts.as_hardware()["imsi"] == "260034666320415"
    assert failures == []  # no mmcli in the default image: not a collection error


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('AT+CGSN\r\r\n+CGSN: "869777028421538"\r\n\r\nOK\r\n', "869777028421538"),
        ("\r\n868183038764457\r\n\r\nOK\r\n", "868183038764457"),
        ("\r\nERROR\r\n", None),
        ("\r\n+CME ERROR: 10\r\n", None),
        ("\r\nOK\r\n", None),
    ],
    ids=["echo and quoted prefix", "bare", "ERROR", "CME error (SIM not inserted)", "empty OK"],
)
def test_value_of_a_reply(reply, expected):
    assert atport.value("AT+CGSN", reply) == expected


def test_an_identifier_of_the_wrong_shape_is_a_warning_not_a_fact():
    parsed = atport.parse("/dev/ttyUSB2", {"AT+CGSN": "\r\n12345\r\nOK\r\n"})
    assert parsed.facts.imei is None
    assert parsed.warnings == ["/dev/ttyUSB2: imei '12345' is not a valid IMEI; not sent"]


def test_a_port_that_cannot_be_opened_is_a_read_failure(fake_root):
    with pytest.raises(run.RunError, match="/dev/ttyUSB9"):
        atport.read("/dev/ttyUSB9")
