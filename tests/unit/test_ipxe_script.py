"""The iPXE script text ARROW writes: safe messages, bounded retries, the stage script."""

import re

import pytest

from inventory.ipxe import RETRY_DELAYS_S, say, stage_script, with_retries
from inventory.pxe import render_script
from inventory.services.boot import BootAction
from inventory.services.pxe import PxeAnswer

URL = "http://10.20.0.5:8000/pxe/boot.ipxe"
# What iPXE reads as syntax in a script line: a comment, an expansion, an operator, a quote.
SYNTAX = re.compile(r"[#$&|;{}\"'\\]")


def echoes(lines: list[str]) -> list[str]:
    return [line.removeprefix("echo ") for line in lines if line.startswith("echo ")]


@pytest.mark.parametrize(
    "text",
    ["pending device request #12", "${serial}", "a || b && c", 'say "x"; y', "tab\there"],
)
def test_messages_never_hold_ipxe_syntax(text):
    assert not SYNTAX.search(say(text))
    assert "\t" not in say(text)


def test_message_keeps_plain_words_and_marks_the_rest():
    assert say("pending device request #12") == "pending device request ?12"


def test_retries_are_bounded_grow_and_end_at_the_next_device():
    lines = with_retries(["kernel http://x/vmlinuz", "boot"], "loading", then=[], cleanup=True)
    sleeps = [int(line.split()[1]) for line in lines if line.startswith("sleep ")]
    assert sleeps[:-1] == list(RETRY_DELAYS_S)
    assert sleeps[:-1] == sorted(sleeps[:-1])  # back-off: never shorter than the last wait
    assert sum(sleeps) < 120  # a bounded time, then the local disk
    tries = len(RETRY_DELAYS_S) + 1
    assert sum(line.startswith("kernel ") for line in lines) == tries
    assert lines[-1] == "exit 1"
    assert lines.count("imgfree") == tries - 1  # a failed try's images are freed first
    messages = echoes(lines)
    assert messages[0] == f"ARROW: loading failed (try 1 of {tries}), next try in 2 s"
    assert messages[-1] == f"ARROW: loading failed {tries} times - booting the next device"


def test_every_goto_has_its_label():
    script = stage_script(URL)
    labels = set(re.findall(r"^:(\S+)$", script, re.M))
    assert set(re.findall(r"goto (\S+)", script)) <= labels


def test_stage_script_fetches_the_booting_nics_script_then_runs_it():
    script = stage_script(URL)
    assert script.startswith("#!ipxe\n")
    assert f"imgfetch --name arrow-boot {URL}?mac=${{netX/mac}} || goto arrow_retry1" in script
    assert script.endswith(":arrow_run\nimgexec arrow-boot\nexit\n")
    for message in echoes(script.splitlines()):
        assert not SYNTAX.search(message), message


@pytest.mark.parametrize("action", [BootAction.INVENTORY, BootAction.IMAGING, BootAction.LOCAL])
def test_boot_script_messages_are_safe_whatever_the_reason(action):
    answer = PxeAnswer(
        action=action, mac="00:e0:4c:92:f7:a4", reason="pending device request #7 ${x}",
        token="tok", device_id="dev-1", chain_url="http://imaging/boot.ipxe",
    )  # fmt: skip
    lines = render_script(answer, "http://10.20.0.5:8000")
    for message in echoes(lines):
        assert not SYNTAX.search(message), message
    if action is BootAction.INVENTORY:
        assert "kernel http://10.20.0.5:8000/pxe/image/vmlinuz" in lines[3]
        assert lines[-1] == "exit 1"
    if action is BootAction.IMAGING:
        assert "chain http://imaging/boot.ipxe || goto arrow_retry1" in lines
