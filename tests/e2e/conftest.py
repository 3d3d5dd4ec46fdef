"""Fixtures for the boot-path tests: the inventory image, built once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


IMAGE_DIR = ROOT / "build" / "image"


@pytest.fixture(scope="session")
def inventory_image() -> Path:
    """Builds build/image/{vmlinuz,initrd.img} with `make -f image/image.mk image` (a no-op when
    nothing changed) and returns the directory. The agent inside is whatever agent/arrow_agent
    holds (or ARROW_AGENT_DIR, for a trial build). Fails, never skips: the make target installs
    the Debian packages it needs (scripts/system-packages.sh image) or names them."""
    if os.geteuid() != 0:
        pytest.fail("building the image needs root (debootstrap); run the QEMU tests as root")
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", "image/image.mk", "image"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        pytest.fail(f"make -f image/image.mk image failed ({result.returncode}):\n{tail}")
    summary = [line for line in output.splitlines() if line.startswith("image:")]
    took = time.monotonic() - started
    print(f"\nimage ready in {took:.1f} s: {' | '.join(summary) or 'up to date'}")
    return IMAGE_DIR
