"""docs/api.md's suspect-serial examples, run as written (curl and bash) against a real HTTP
server on 127.0.0.1, and compared with the answers shown ("…" stands for what differs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from inventory.auth import api_token_create
from tests.inventory_data import submit

ROOT = Path(__file__).resolve().parents[2]
ELIDED = "…"
EXAMPLE = re.compile(r"```sh\n(?P<script>.*?)```\n```json\n(?P<answer>.*?)```", re.S)

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


def examples() -> list[tuple[str, object]]:
    """The (shell block, shown JSON answer) pairs of docs/api.md's "Suspect serials" section."""
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("### Suspect serials", 1)[1].split("\n## ", 1)[0]
    return [(m["script"], json.loads(m["answer"])) for m in EXAMPLE.finditer(section)]


def matches(got, shown) -> bool:
    """*got* is what *shown* shows: equal, but a string "…" stands for any value and "dev-…"
    for any string that starts so."""
    if shown == ELIDED:
        return True
    if isinstance(shown, str) and ELIDED in shown:
        pattern = ".*".join(re.escape(p) for p in shown.split(ELIDED))
        return isinstance(got, str) and re.fullmatch(pattern, got) is not None
    if isinstance(shown, dict):
        return (
            isinstance(got, dict)
            and got.keys() == shown.keys()
            and all(matches(got[k], v) for k, v in shown.items())
        )
    if isinstance(shown, list):
        return (
            isinstance(got, list)
            and len(got) == len(shown)
            and all(matches(g, s) for g, s in zip(got, shown, strict=True))
        )
    return got == shown


def test_the_section_has_the_list_and_the_decision():
    scripts = [script for script, _ in examples()]
    assert len(scripts) == 2
    assert "/api/serials?state=suspect" in scripts[0]
    assert "/api/serials/1/decide" in scripts[1]


def test_the_documented_serial_requests_answer_as_shown(live_server, django_user_model):
    staff = django_user_model.objects.create_user("operator", password="pw-op-1", is_staff=True)
    for i in (1, 2, 3):
        submit({"mac_address": [f"eth0:02:5e:00:00:{i:02x}:00"], "serial_number": "MXL7281Q2K"})
    env = {**os.environ, "TOKEN": api_token_create(user=staff, name="docs")}
    server = live_server.url.split("//", 1)[1]
    for script, shown in examples():
        out = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("ARROW:8000", server)],
            capture_output=True, text=True, check=False, timeout=30, env=env,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)
        assert matches(got, shown), f"{script}\nshown {shown}\ngot {got}"
