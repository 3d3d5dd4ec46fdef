"""The iPXE boot endpoint, per-boot tokens and the imaging system's reports (Django Client)."""

import json
import re

import pytest

from inventory.models import BootEvent, BootToken, Device, DeviceRequest, Submission
from tests.conftest import DOC_MAC, DOC_SUBMIT

pytestmark = pytest.mark.django_db
BOOT = "/pxe/boot.ipxe"


def boot(client, mac, host="10.0.2.100"):
    return client.get(BOOT, {"mac": mac}, HTTP_HOST=host)


def token_of(script: str) -> str:
    return re.search(r"arrow\.token=(\S+)", script).group(1)


def submit_with_token(client, token, body=DOC_SUBMIT):
    return client.post(
        "/api/inventory/submit", json.dumps(body), content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip


def test_unknown_mac_exits_to_local_boot_and_is_recorded(client, demo):
    response = boot(client, "02:00:00:00:99:01")
    text = response.content.decode()
    assert response.status_code == 200
    assert text.startswith("#!ipxe\n")
    assert "\nexit" in text
    assert "unknown MAC" in text
    event = BootEvent.objects.get()
    assert (event.mac, event.action, event.device) == ("02:00:00:00:99:01", "local", None)
    assert Device.objects.count() == 0


def test_boot_endpoint_needs_no_login(client, demo):
    assert boot(client, DOC_MAC).status_code == 200  # not a 302 to the login page


def test_inventory_answer_boots_the_image_with_urls_from_the_device_side(client, demo):
    text = boot(client, "00-E0-4C-92-F7-A4", host="10.0.2.100:8080").content.decode()
    assert "kernel http://10.0.2.100:8080/pxe/image/vmlinuz " in text
    assert "initrd http://10.0.2.100:8080/pxe/image/initrd.img" in text
    assert "arrow.server=http://10.0.2.100:8080 " in text
    assert f"arrow.mac={DOC_MAC}" in text
    assert "quiet cryptomgr.notests" in text  # the image's own arguments (docs/pxe.md)
    assert "\nboot" in text
    assert BootToken.objects.get().mac == DOC_MAC
    assert "test-service-key" not in text  # the service key is never handed to devices


def test_public_url_setting_wins(client, demo, settings):
    settings.ARROW_PUBLIC_URL = "http://arrow.example.net"
    text = boot(client, DOC_MAC).content.decode()
    assert "kernel http://arrow.example.net/pxe/image/vmlinuz" in text


def test_token_submits_once_for_its_own_mac(client, demo):
    token = token_of(boot(client, DOC_MAC).content.decode())
    first = submit_with_token(client, token)
    assert first.status_code == 200, first.content
    assert Submission.objects.get().credential == "boot_token"
    second = submit_with_token(client, token)
    assert second.status_code == 401  # used up


def test_token_refused_for_a_device_with_other_macs(client, demo):
    token = token_of(boot(client, DOC_MAC).content.decode())
    other = {"inventory_data": {"mac_address": ["eth0:02:00:00:00:77:01"]}}
    response = submit_with_token(client, token, other)
    assert response.status_code == 403
    assert response.json()["code"] == "token_mac_mismatch"
    assert Submission.objects.get().outcome == "rejected"
    assert submit_with_token(client, token).status_code == 200  # still valid: nothing accepted


def test_rejected_submission_does_not_use_up_the_token(client, demo):
    token = token_of(boot(client, DOC_MAC).content.decode())
    bad = {"inventory_data": {"mac_address": ["eth0:00:e0:4c:92:f7:a4"], "imei": "12"}}
    assert submit_with_token(client, token, bad).status_code == 400
    assert submit_with_token(client, token).status_code == 200


def test_expired_or_unknown_token_is_refused(client, demo, settings):
    settings.ARROW_BOOT_TOKEN_TTL = -1
    token = token_of(boot(client, DOC_MAC).content.decode())
    assert submit_with_token(client, token).status_code == 401
    assert submit_with_token(client, "made-up").status_code == 401
    assert Submission.objects.count() == 0


def test_ready_device_chains_to_the_imaging_target_then_reports_imaged(
    client, device_client, demo, settings
):
    settings.ARROW_IMAGING_URL = "http://imaging.example/boot.ipxe?mac={mac}&id={device_id}"
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    device = Device.objects.get()
    text = boot(client, DOC_MAC).content.decode()
    assert f"chain http://imaging.example/boot.ipxe?mac={DOC_MAC}&id={device.pk}" in text
    device.refresh_from_db()
    assert device.imaging_status == "imaging"
    assert DeviceRequest.objects.get().status == "imaging"

    report = device_client.post(
        "/api/inventory/imaging-status", {"mac_address": DOC_MAC, "status": "imaged"}
    )
    assert report.status_code == 200
    assert report.json() == {
        "device_id": device.pk,
        "imaging_status": "imaged",
        "request_status": "fulfilled",
    }
    text = boot(client, DOC_MAC).content.decode()
    assert "\nexit" in text
    assert "imaged" in text


def test_spec_then_organization_imaging_targets_win_over_the_default(
    client, device_client, demo, settings
):
    settings.ARROW_IMAGING_URL = "http://default/{mac}"
    demo["org"].imaging_url = "http://org/{mac_hyphen}"
    demo["org"].save()
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    assert "chain http://org/00-e0-4c-92-f7-a4" in boot(client, DOC_MAC).content.decode()
    demo["spec"].imaging_url = "http://spec/{device_id}"
    demo["spec"].save()
    device = Device.objects.get()
    assert f"chain http://spec/{device.pk}" in boot(client, DOC_MAC).content.decode()


def test_no_imaging_target_means_local_boot_with_a_reason(client, device_client, demo):
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    text = boot(client, DOC_MAC).content.decode()
    assert "no imaging target is configured" in text
    assert Device.objects.get().imaging_status == "ready_for_imaging"


def test_failed_imaging_keeps_the_reason_and_boots_locally(client, device_client, demo):
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    device = Device.objects.get()
    out = device_client.post(
        "/api/inventory/imaging-status",
        {"device_id": device.pk, "status": "failed", "reason": "disk not found"},
    )
    assert out.json()["imaging_status"] == "failed"
    device.refresh_from_db()
    assert device.imaging_error == "disk not found"
    assert "\nexit" in boot(client, DOC_MAC).content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done", "device_id": "x"}, "status"),
        ({"status": "imaged"}, "device_id"),
        ({"status": "imaged", "device_id": "dev-nope"}, "device_id"),
        ({"status": "imaged", "mac_address": "zz"}, "mac_address"),
    ],
)
def test_imaging_report_errors_name_the_field(device_client, body, field):
    response = device_client.post("/api/inventory/imaging-status", body)
    assert response.status_code in (400, 404)
    assert response.json()["field"] == field


def test_imaging_report_needs_the_service_key(client):
    response = client.post("/api/inventory/imaging-status", "{}", content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("mac", ["", "nope", "00:11"])
def test_invalid_mac_is_a_400_script_naming_mac(client, mac):
    response = client.get(BOOT, {"mac": mac})
    assert response.status_code == 400
    assert response.content.decode().startswith("#!ipxe\necho ARROW: mac:")


def test_boot_endpoint_can_be_limited_to_networks(client, demo, settings):
    settings.ARROW_PXE_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get(BOOT, {"mac": DOC_MAC}).status_code == 403  # test client is 127.0.0.1
    ok = client.get(BOOT, {"mac": DOC_MAC}, REMOTE_ADDR="10.20.3.4")
    assert ok.status_code == 200


def test_image_files_are_served_with_ranges(client, settings, tmp_path):
    settings.ARROW_IMAGE_DIR = tmp_path
    (tmp_path / "vmlinuz").write_bytes(bytes(range(256)) * 4)
    whole = client.get("/pxe/image/vmlinuz")
    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == bytes(range(256)) * 4
    part = client.get("/pxe/image/vmlinuz", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part.content == bytes(range(10, 20))
    assert part["Content-Range"] == "bytes 10-19/1024"
    tail = client.get("/pxe/image/vmlinuz", HTTP_RANGE="bytes=-4")
    assert tail.content == bytes(range(252, 256))
    assert client.get("/pxe/image/vmlinuz", HTTP_RANGE="bytes=2000-").status_code == 416
    assert client.get("/pxe/image/initrd.img").status_code == 404
    assert client.get("/pxe/image/..%2Fsettings.py").status_code == 404


def test_admin_api_lists_boot_events(admin_client, client, demo):
    boot(client, "02:00:00:00:99:02")
    events = admin_client.get("/api/boot-events").json()
    assert events[0]["mac"] == "02:00:00:00:99:02"
    assert events[0]["action"] == "local"


def test_requeue_imaging_after_failure(admin_client, device_client, demo):
    device_client.post("/api/inventory/submit", DOC_SUBMIT)
    device = Device.objects.get()
    device_client.post(
        "/api/inventory/imaging-status", {"device_id": device.pk, "status": "failed"}
    )
    out = admin_client.post(f"/api/devices/{device.pk}/requeue-imaging", {}).json()
    assert out["imaging_status"] == "ready_for_imaging"


def test_ipxe_efi_builds_are_served_for_http_boot(client):
    from pathlib import Path

    response = client.get("/pxe/ipxe/snponly.efi")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == Path("/usr/lib/ipxe/snponly.efi").read_bytes()
    head = client.head("/pxe/ipxe/snponly.efi")  # OVMF's HTTP Boot asks for the size first
    assert head.status_code == 200
    assert int(head["Content-Length"]) == Path("/usr/lib/ipxe/snponly.efi").stat().st_size
    assert client.get("/pxe/ipxe/undionly.kpxe").status_code == 404  # only the EFI builds
    assert client.get("/pxe/ipxe/..%2fsettings.py").status_code == 404
