"""The live onboarding page in a real browser while simulated devices boot: every step is a real
HTTP call to the live server (boot script, the script's progress fetches, the agent's started
call, the submission, the imaging report), and the open page follows without a reload."""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import expect

from inventory.services.catalog import request_save
from tests.conftest import SERVICE_KEY
from tests.inventory_data import nuc

MAC_A = "02:00:00:0a:00:01"
MAC_B = "02:00:00:0b:00:02"
FOLLOW_MS = 20_000  # polling every 500 ms; generous, the machine is shared


class SimulatedDevice:
    """What iPXE and the agent send for one MAC, over real HTTP."""

    def __init__(self, base: str, mac: str) -> None:
        self.base, self.mac = base, mac
        self.script = ""

    def _call(self, path: str, *, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.base + path, data=body, headers=headers or {}, method="POST" if body else "GET"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()

    def boot(self) -> None:
        status, raw = self._call(f"/pxe/boot.ipxe?mac={self.mac}")
        assert status == 200
        self.script = raw.decode()
        assert "arrow.token=" in self.script, self.script

    def progress(self, step: str) -> None:
        for url in re.findall(r"imgfetch --name arrow-progress (\S+)", self.script):
            parts = urlsplit(url)
            if f"step={step}" in parts.query:
                assert self._call(f"{parts.path}?{parts.query}") == (200, b"ok\n")
                return
        raise AssertionError(f"no {step} progress fetch in the boot script")

    @property
    def token(self) -> str:
        return re.search(r"arrow\.token=(\S+)", self.script).group(1)

    def started(self) -> None:
        status, _ = self._call(
            "/api/inventory/started", body=b"{}", headers={"X-Inventory-Token": self.token}
        )
        assert status == 200

    def submit(self, serial: str) -> str:
        body = json.dumps({"inventory_data": nuc(self.mac, name="PVE-0001", serial=serial)})
        status, raw = self._call(
            "/api/inventory/submit",
            body=body.encode(),
            headers={"X-Inventory-Token": self.token, "Content-Type": "application/json"},
        )
        assert status == 200
        return json.loads(raw)["device_id"]

    def imaged(self, device_id: str) -> None:
        status, _ = self._call(
            "/api/inventory/imaging-status",
            body=json.dumps({"device_id": device_id, "status": "imaged"}).encode(),
            headers={"X-Service-Api-Key": SERVICE_KEY, "Content-Type": "application/json"},
        )
        assert status == 200


def test_the_live_page_follows_a_simulated_rack_and_names_the_stuck_device(
    transactional_db, live_server, staff_page, orgs, settings
):
    request_save(organization=orgs["own"].pk, target_macs=[MAC_A])
    request_b = request_save(organization=orgs["own"].pk, target_macs=[MAC_B])
    settings.ARROW_LIVE_POLL_MS = 500
    settings.ARROW_STUCK_AFTER_S = 6
    page = staff_page
    page.get_by_role("link", name="Live").click()
    expect(page.get_by_role("heading", name="Onboarding now")).to_be_visible()
    expect(page.get_by_test_id("live-empty")).to_be_visible()

    device_a, device_b = (SimulatedDevice(live_server.url, mac) for mac in (MAC_A, MAC_B))
    row_a = page.locator(f'[data-testid="live-row"][data-mac="{MAC_A}"]')
    device_a.boot()
    expect(row_a.get_by_test_id("live-step")).to_have_text(
        "Boot script served (inventory)", timeout=FOLLOW_MS
    )
    for step, label in (("kernel", "Kernel fetched"), ("initrd", "Initrd fetched")):
        device_a.progress(step)
        expect(row_a.get_by_test_id("live-step")).to_have_text(label, timeout=FOLLOW_MS)
    device_a.started()
    expect(row_a.get_by_test_id("live-step")).to_have_text("Agent started", timeout=FOLLOW_MS)

    # The second device stops after its initrd: its agent never starts.
    row_b = page.locator(f'[data-testid="live-row"][data-mac="{MAC_B}"]')
    device_b.boot()
    device_b.progress("kernel")
    device_b.progress("initrd")
    expect(row_b.get_by_test_id("live-step")).to_have_text("Initrd fetched", timeout=FOLLOW_MS)
    expect(row_b).to_have_attribute("data-stuck", "1", timeout=FOLLOW_MS)
    expect(row_b.get_by_test_id("live-state")).to_contain_text(
        re.compile(r"Initrd fetched \d+ s ago, agent never started: check the image and the NIC")
    )
    expect(page.get_by_test_id("stuck-count")).not_to_have_text("0")

    device_id = device_a.submit("SN-LIVE-A")
    expect(row_a.get_by_test_id("live-step")).to_have_text(
        "Inventory submitted: accepted", timeout=FOLLOW_MS
    )
    expect(row_a.get_by_role("link", name=device_id)).to_be_visible()
    device_a.imaged(device_id)
    expect(row_a).to_have_count(0, timeout=FOLLOW_MS)  # onboarded: off the live list
    expect(row_b).to_have_count(1)
    group = page.get_by_test_id("live-group").filter(has=row_b)
    expect(group.get_by_test_id("live-group-name")).to_have_text(
        f"Blue Team / request #{request_b.pk}"
    )
    assert page.external_requests == []

    # The device page shows the whole timeline, with the time between steps.
    page.goto(f"/devices/{device_id}/")
    timeline = page.get_by_test_id("timeline")
    labels = (
        "Boot script served (inventory)",
        "Kernel fetched",
        "Initrd fetched",
        "Agent started",
        "Inventory submitted: accepted",
        "Imaging reported: imaged",
    )
    for label in labels:
        expect(timeline).to_contain_text(label)
    expect(timeline.get_by_test_id("step-gap").nth(1)).to_have_text(re.compile(r"^\+\d+ s$"))
