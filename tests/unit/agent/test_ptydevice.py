"""The fake devices of the modem tests leave nothing behind that could answer the next test."""

from __future__ import annotations

import os
import select

from tests.unit.agent.ptydevice import PtyDevice


class Recorder(PtyDevice):
    def __init__(self) -> None:
        self.heard = b""
        super().__init__()

    def feed(self, chunk: bytes) -> None:
        self.heard += chunk


def test_a_closed_device_does_not_read_the_next_pseudo_terminal_given_its_numbers():
    old = Recorder()
    old.close()
    assert not old.thread.is_alive()
    master, slave = os.openpty()
    try:
        os.write(slave, b"for the next test\n")
        assert select.select([master], [], [], 5)[0]
        assert b"for the next test" in os.read(master, 100)
        assert old.heard == b""
    finally:
        os.close(slave)
        os.close(master)
