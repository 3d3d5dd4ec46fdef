"""Specs that check the hardware, in a real browser: an operator sets a spec's requirements in
the spec form, a device submits over real HTTP with too little memory and one disk, and the
device page and the dashboard show why it fails its spec; a fixing submission clears both."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from inventory.models import Device
from inventory.services.catalog import spec_save
from tests.conftest import SERVICE_KEY

MAC = "1c:69:7a:0a:1b:2c"
NVME = {"name": "nvme0n1", "size_bytes": 512_110_190_592, "transport": "nvme"}
SATA = {"name": "sda", "size_bytes": 1_000_204_886_016, "transport": "sata"}


def submit(base: str, *, module_mb: int, disks: list[dict]) -> dict:
    """The agent's submission of a NUC with two memory modules, over HTTP with the service key."""
    body = {
        "inventory_data": {
            "mac_address": [f"enp86s0:{MAC}"],
            "device_name": "PVE-91792126",
            "serial_number": "BTTN20900ABC",
            "device_spec": "Intel Client Systems NUC11TNHi5",
            "has_modem": False,
            "hardware": {
                "cpu": {"model": "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", "cores": 4},
                "memory_modules": [
                    {"slot": "DIMM 0", "size_mb": module_mb},
                    {"slot": "DIMM 1", "size_mb": module_mb},
                ],
                "disks": disks,
            },
        }
    }
    request = urllib.request.Request(
        f"{base}/api/inventory/submit",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Service-Api-Key": SERVICE_KEY},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_a_device_failing_its_spec_is_flagged_on_its_page_and_the_dashboard(
    staff_page, live_server
):
    page = staff_page
    spec = spec_save(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"])
    page.goto(f"/specs/{spec.pk}/")
    page.get_by_label("CPU model pattern").fill("i5-1135G7|i7-1165G7")
    page.get_by_label("Minimum memory (GiB)").fill("32")
    page.get_by_label("Minimum disks").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("message-success")).to_contain_text("Device spec saved")
    spec.refresh_from_db()
    assert spec.requirements == {
        "cpu_pattern": "i5-1135G7|i7-1165G7",
        "min_memory_gib": 32,
        "min_disks": 2,
    }

    answer = submit(live_server.url, module_mb=8192, disks=[NVME])
    assert answer["imaging_status"] == "awaiting_inventory"
    device = Device.objects.get()

    page.goto("/")
    failing = page.get_by_test_id("failing-spec")
    expect(failing).to_contain_text("expected 32 GiB memory, found 16 GiB")
    expect(failing).to_contain_text("expected 2 disks, found 1")
    expect(page.get_by_test_id("failing-count")).to_have_text("1")
    failing.get_by_role("link", name="PVE-91792126").click()

    expect(page.get_by_test_id("device-title")).to_contain_text(device.pk)
    flag = page.get_by_test_id("spec-mismatch")
    expect(flag).to_contain_text("held from imaging")
    expect(flag).to_contain_text("expected 32 GiB memory, found 16 GiB")
    expect(flag).to_contain_text("expected 2 disks, found 1")
    expect(page.get_by_test_id("fails-spec-badge")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("spec check")
    expect(page.get_by_test_id("timeline")).to_contain_text("hardware fails its spec")

    fixed = submit(live_server.url, module_mb=16384, disks=[NVME, SATA])
    assert fixed["spec_mismatches"] == []
    assert fixed["imaging_status"] == "ready_for_imaging"
    page.reload()
    expect(page.get_by_test_id("spec-mismatch")).to_have_count(0)
    expect(page.get_by_test_id("history")).to_contain_text("meets its spec")
    page.goto("/")
    expect(page.get_by_test_id("failing-spec")).to_contain_text("Every device meets its spec.")
    assert page.external_requests == []
