"""A device on the master side of a pseudo-terminal, for the modem readers' tests.

The agent opens the slave side by its path (linked as /dev/<name> under the fake root). The
device's thread stops before its descriptors are closed: a thread still reading a closed
descriptor number would read from the next test's pseudo-terminal, which the kernel hands the
same number, and answer it with the previous test's answers.
"""

from __future__ import annotations

import os
import select
import threading


class PtyDevice:
    """Serves whatever the agent writes: subclasses take bytes in ``feed`` and ``write`` back."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def path(self) -> str:
        return os.ttyname(self.slave)

    def serve(self) -> None:
        while not self.stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # no slave open: the agent closed the port
                continue
            self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the fake device's thread did not stop"
        os.close(self.slave)
        os.close(self.master)


def plugger(fake_root, sys_class: str, dev: str):
    """A ``plug(name, device)`` function for a test, and the devices it plugged (to close)."""
    devices: list[PtyDevice] = []

    def plug(name: str, device: PtyDevice) -> str:
        fake_root.link(f"/dev/{name}", device.path)
        fake_root.file(f"/sys/class/{sys_class}/{name}/dev", f"{dev}\n")
        devices.append(device)
        return f"/dev/{name}"

    return plug, devices
