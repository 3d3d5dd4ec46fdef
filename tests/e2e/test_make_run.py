"""`make run` on a fresh var/ directory: secrets generated, demo loaded, documented calls work."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inventory.services.outbox import verify
from tests.conftest import DOC_SUBMIT
from tests.e2e.conftest import free_port
from tests.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


def start(var_dir: Path, port: int, workers: int = 1, **env_extra: str):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEVICE_LOOKUP_API_KEY")
    }
    env.update(ARROW_VAR_DIR=str(var_dir), ARROW_BIND=f"127.0.0.1:{port}", **env_extra)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"WORKERS={workers}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "API docs:" in line:
            return proc, "".join(lines)
    stop(proc)
    pytest.fail("make run did not print its banner:\n" + "".join(lines[-40:]))


def read_until(proc, text: str, timeout: float = 60) -> str:
    """What `make run` prints up to the line holding *text* (fails when it never comes)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return "".join(lines)
    pytest.fail(f"make run never printed {text!r}:\n" + "".join(lines[-40:]))


def stop(proc, sig: int = signal.SIGTERM) -> str:
    """Stops `make run` as a supervisor would (TERM to its process group; INT is Ctrl-C at its
    terminal) and returns what it printed meanwhile; every process of the group is gone then
    (gunicorn and the webhook worker)."""
    os.killpg(proc.pid, sig)
    proc.wait(timeout=30)
    rest = proc.stdout.read()
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return rest
        if time.monotonic() > deadline:
            pytest.fail(f"a process of make run outlived it:\n{rest[-2000:]}")
        time.sleep(0.1)


def call(port: int, path: str, body: dict, key: str):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Service-Api-Key": key},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # gunicorn still binding


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A shown answer's elided part: "dev-…" matches any device id, a line of "…" any lines.
ELIDED = "…"
# Written just before a block whose request needs the documentation's device to exist.
AFTER_SUBMIT = "<!-- tested after the submit example -->"
BLOCK = re.compile(r"(?P<marker>" + re.escape(AFTER_SUBMIT) + r"\n)?```sh\n(?P<script>.*?)```"
                   r"(?:\n+```text\n(?P<text>.*?)```)?", re.S)  # fmt: skip


class Example:
    """A documented request: where it is, the shell block, and the answer shown for it (the
    block's last line `# {...}`, or the ```text block right after it)."""

    def __init__(self, where: str, line: int, script: str, answer, after_submit: bool):
        self.where, self.line, self.script = where, line, script
        self.answer, self.after_submit = answer, after_submit
        self.section = ""  # "docs/api.md § POST /api/inventory/check-mac", set when found

    def check(self, output: str, server: str) -> None:
        if isinstance(self.answer, str):
            shown = self.answer.replace("ARROW:8000", server).replace("127.0.0.1:8000", server)
            assert re.fullmatch(pattern(shown), output.strip()), (
                f"{self}: shown\n{shown}\ngot\n{output}"
            )
        else:
            assert matches(json.loads(output), self.answer), f"{self}: got {output}"

    def __str__(self) -> str:
        return f"{self.where}:{self.line}"


def heading_before(text: str, position: int) -> str:
    """The Markdown heading an example stands under (its name, stable when lines move)."""
    headings = re.findall(r"^#+ (.+)$", text[:position], re.M)
    return headings[-1].strip() if headings else ""


def pattern(shown: str) -> str:
    lines = []
    for line in shown.strip().splitlines():
        if line.strip() == ELIDED:
            lines.append(r"(?:.*\n)*?.*")
        else:
            lines.append(".*".join(re.escape(part) for part in line.split(ELIDED)))
    return r"\n".join(lines)


def matches(got, shown) -> bool:
    if isinstance(shown, str) and ELIDED in shown:
        return isinstance(got, str) and re.fullmatch(pattern(shown), got) is not None
    if isinstance(shown, dict):
        return (
            isinstance(got, dict)
            and got.keys() == shown.keys()
            and all(matches(got[k], v) for k, v in shown.items())
        )
    return got == shown


def documented_requests() -> list[Example]:
    """Every shell block of README.md and docs/ that shows its answer: on its last line as
    JSON (`# {...}`), or in a ```text block right after it."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for block in BLOCK.finditer(text):
            script, shown = block["script"], block["text"]
            last = script.strip().splitlines()[-1]
            if shown is None and last.startswith("# {"):
                shown = json.loads(last[2:])
            if shown is not None:
                line = text.count("\n", 0, block.start("script"))
                where = doc.relative_to(ROOT).as_posix()
                example = Example(where, line, script, shown, bool(block["marker"]))
                example.section = f"{where} § {heading_before(text, block.start())}"
                found.append(example)
    return found


def admin_token(var_dir: Path) -> str:
    """An admin API token of the demo's admin, made the way docs/api.md says ($ADMIN_TOKEN)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "create_api_token", "admin", "--name=docs"],
        cwd=ROOT, env={**env, "ARROW_VAR_DIR": str(var_dir)}, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def run_documented_requests(var_dir: Path, port: int, *, after_submit: bool) -> list[str]:
    """Runs each documented request as written (the demo's server for 127.0.0.1:8000 and
    ARROW:8000), in a directory whose var/ is this server's, with $KEY and $ADMIN_TOKEN set as the
    README and docs/api.md set them, and compares the answer with the one shown. Returns where
    the examples are."""
    examples = [e for e in documented_requests() if e.after_submit == after_submit]
    token = admin_token(var_dir) if examples else ""
    workdir = var_dir.parent / "checkout"
    workdir.mkdir(exist_ok=True)
    if not (workdir / "var").exists():
        (workdir / "var").symlink_to(var_dir)
    for example in examples:
        script = example.script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        script = script.replace("ARROW:8000", f"127.0.0.1:{port}")
        out = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=workdir, capture_output=True, text=True, check=False, timeout=30,
            env={**os.environ, "KEY": (var_dir / "device_lookup_api_key").read_text().strip(),
                 "ADMIN_TOKEN": token},
        )  # fmt: skip
        assert out.returncode == 0, f"{example}: {out.stderr}"
        example.check(out.stdout, f"127.0.0.1:{port}")
    return [e.section for e in examples]


def subscribe(port: int, token: str, url: str) -> dict:
    body = {"url": url, "event_types": ["device.inventoried"], "organization": "Demo Org"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/webhooks",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def test_the_documented_examples_are_found():
    sections = {e.section for e in documented_requests()}
    assert {
        "README.md § ARROW Auto-Inventory",
        "docs/api.md § POST /api/inventory/check-mac",
        "docs/pxe.md § 1. The backend",
        "docs/pxe.md § 4. The imaging target",
    } <= sections, sections


def test_make_run_serves_the_demo_and_the_documented_requests(tmp_path):
    var_dir = tmp_path / "var"
    port = free_port()
    receiver = Receiver().start()
    proc, banner = start(var_dir, port)
    try:
        key = re.search(r"service key \(X-Service-Api-Key\): (\S+)", banner).group(1)
        password = re.search(r"admin login: admin / (\S+)", banner).group(1)
        assert (var_dir / "device_lookup_api_key").read_text().strip() == key
        assert len(password) >= 12
        assert f"http://127.0.0.1:{port}/" in banner

        status, out = call(
            port, "/api/inventory/check-mac", {"mac_address": "00:e0:4c:92:f7:a4"}, key
        )
        assert (status, out) == (
            200,
            {"needs_inventory": True, "device_id": None, "organization": "Demo Org"},
        )
        run_documented_requests(var_dir, port, after_submit=False)  # what a newcomer types first
        hook = subscribe(port, admin_token(var_dir), receiver.url)
        status, out = call(port, "/api/inventory/submit", DOC_SUBMIT, key)
        assert status == 200, out
        assert out["status"] == "newly_inventoried"
        assert out["device_spec"] == "Intel NUC 11 Pro"
        assert out["organization"] == "Demo Org"
        # The worker make run started beside gunicorn delivers the event, signed.
        receiver.wait_for(lambda: receiver.accepted(), timeout=60, what="device.inventoried")
        (got,) = receiver.accepted()
        assert got.payload["data"]["device"]["id"] == out["device_id"]
        assert verify(hook["secret"], got.headers["X-Arrow-Signature"], got.body, now=time.time())
        after = run_documented_requests(var_dir, port, after_submit=True)
        assert after == ["docs/pxe.md § 4. The imaging target"]
        status, out = call(
            port, "/api/inventory/update-status",
            {"device_ids": [out["device_id"]], "new_status": "processed"}, key,
        )  # fmt: skip
        assert status == 200
        status, _ = call(
            port, "/api/inventory/check-mac", {"mac_address": "00:e0:4c:92:f7:a4"}, "x"
        )
        assert status == 401
    finally:
        rest = stop(proc)
        receiver.stop()
    assert "webhook worker stopped" in rest, rest[-2000:]

    # Second run: idempotent, same key and password; ARROW_ADMIN_PASSWORD is honoured.
    proc, banner = start(var_dir, port, ARROW_ADMIN_PASSWORD="operator-chosen-1")
    try:
        assert f"service key (X-Service-Api-Key): {key}" in banner
        assert "admin login: admin / operator-chosen-1" in banner
        assert "1 request(s)" in banner
        read_until(proc, "webhook worker started")  # Ctrl-C once everything runs
    finally:
        rest = stop(proc, signal.SIGINT)  # Ctrl-C
    assert "webhook worker stopped" in rest, rest[-2000:]
