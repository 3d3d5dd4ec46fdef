"""The iPXE script language, as ARROW writes it: screen messages and bounded retries.

iPXE reads a word starting with `#` as a comment, expands `${...}`, and treats `||` and `&&` as
operators, so a message goes through `say()`, which keeps letters, digits and a few plain signs.
A fetch that fails (backend restarting, a lost packet) is tried again after waits that grow,
with a message each time; after the last try the script gives up and iPXE boots the next device.
"""

from __future__ import annotations

import re

# Waits between tries, in seconds: 6 tries within about a minute, then the next boot device.
RETRY_DELAYS_S = (2, 4, 8, 16, 30)
GIVE_UP_PAUSE_S = 5  # the last message stays readable on the screen for this long
_UNSAFE = re.compile(r"[^A-Za-z0-9 :._,/()@+=-]")


def say(text: str) -> str:
    """*text* as iPXE's `echo` prints it: no comment, expansion or operator characters."""
    return _UNSAFE.sub("?", text)[:200]


def with_retries(commands: list[str], what: str, *, then: list[str], cleanup: bool) -> list[str]:
    """Lines that run *commands* (each may fail) up to len(RETRY_DELAYS_S) + 1 times.

    After a try whose commands all succeeded, *then* runs (a `goto`, or nothing when the last
    command does not return, like `boot`). *cleanup* frees the images a failed try loaded.
    Only when every try failed: a message, a pause, and `exit 1` (the next boot device).
    """
    tries = len(RETRY_DELAYS_S) + 1
    lines: list[str] = []
    for number in range(1, tries + 1):
        failed = f"arrow_retry{number}" if number < tries else "arrow_give_up"
        lines.append(f":arrow_try{number}")
        lines += [f"{command} || goto {failed}" for command in commands]
        lines += then
        if number == tries:
            break
        delay = RETRY_DELAYS_S[number - 1]
        lines.append(f":{failed}")
        if cleanup:
            lines.append("imgfree")
        lines += [
            f"echo {say(f'ARROW: {what} failed (try {number} of {tries}), next try in {delay} s')}",
            f"sleep {delay}",
        ]
    return [
        *lines,
        ":arrow_give_up",
        f"echo {say(f'ARROW: {what} failed {tries} times - booting the next device')}",
        f"sleep {GIVE_UP_PAUSE_S}",
        "exit 1",
    ]


def stage_script(boot_url: str) -> str:
    """The first script iPXE runs (served by dnsmasq's TFTP, so it is there while the backend
    is not): fetch the backend's boot script for the booting NIC, with retries, and run it."""
    lines = [
        "#!ipxe",
        f"echo {say(f'ARROW: asking {boot_url} what to boot')}",
        *with_retries(
            [f"imgfetch --name arrow-boot {boot_url}?mac=${{netX/mac}}"],
            "reaching the boot service",
            then=["goto arrow_run"],
            cleanup=False,
        ),
        ":arrow_run",
        "imgexec arrow-boot",
        "exit",
    ]
    return "\n".join(lines) + "\n"
