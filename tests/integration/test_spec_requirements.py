"""Specs that check the hardware, through the real endpoints: a submission that fails its spec
is flagged and not chained to imaging, "image anyway" chains it, a fixing submission clears it;
the admin API validates the requirements."""

from __future__ import annotations

import json

import pytest

from inventory.models import AuditEntry, Device, DeviceSpec, Submission, WebhookEvent
from inventory.services.catalog import spec_save
from inventory.services.webhooks import webhook_subscription_create
from tests.conftest import DOC_MAC

pytestmark = pytest.mark.django_db
BOOT = "/pxe/boot.ipxe"
MAC = "1c:69:7a:0a:1b:2c"
NVME = {"name": "nvme0n1", "size_bytes": 512_110_190_592, "transport": "nvme"}
SATA = {"name": "sda", "size_bytes": 1_000_204_886_016, "transport": "sata"}
REQUIREMENTS = {"cpu_pattern": "i5-1135G7", "min_memory_gib": 32, "min_disks": 2}


def inventory(*, memory_mb: int = 8192, disks=(NVME,), hardware: bool = True) -> dict:
    """A NUC as the agent reports it (docs/agent.md): two 8 GiB modules and one disk."""
    data = {
        "mac_address": [f"enp86s0:{MAC}"],
        "device_name": "PVE-91792126",
        "serial_number": "BTTN20900ABC",
        "device_spec": "Intel Client Systems NUC11TNHi5",
        "has_modem": False,
        "hardware_generated_sn": True,
        "sn_source": "bios",
    }
    if hardware:
        data["hardware"] = {
            "cpu": {"model": "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", "cores": 4},
            "memory_bytes": 16_397_520_896,
            "memory_modules": [
                {"slot": "DIMM 0", "size_mb": memory_mb},
                {"slot": "DIMM 1", "size_mb": memory_mb},
            ],
            "disks": list(disks),
        }
    return {"inventory_data": data}


@pytest.fixture
def nuc_spec(db, settings):
    settings.ARROW_IMAGING_URL = "http://imaging.example/boot.ipxe?mac={mac}"
    return spec_save(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"],
                     requirements=REQUIREMENTS)  # fmt: skip


def boot(client) -> str:
    return client.get(BOOT, {"mac": MAC}, HTTP_HOST="10.0.2.100").content.decode()


def test_a_submission_failing_its_spec_is_flagged_and_not_chained_to_imaging(
    client, device_client, nuc_spec
):
    answer = device_client.post("/api/inventory/submit", inventory())
    assert answer.status_code == 200, answer.content
    body = answer.json()
    expected = ["expected 32 GiB memory, found 16 GiB", "expected 2 disks, found 1"]
    assert body["spec_mismatches"] == expected
    assert body["device_spec"] == "Intel NUC 11 Pro"
    assert body["imaging_status"] == "awaiting_inventory"
    device = Device.objects.get()
    assert device.fails_spec
    assert [m["message"] for m in device.spec_mismatches] == expected
    assert [m["fact"] for m in device.spec_mismatches] == ["memory", "disks"]
    entry = device.history.get(kind="inventory")
    assert entry.changes["spec check"] == [None, "; ".join(expected)]
    assert "hardware does not meet spec 'Intel NUC 11 Pro': held from imaging" in entry.note
    assert Submission.objects.get().error["spec_mismatches"] == expected

    script = boot(client)
    assert "chain http://imaging.example" not in script
    assert "hardware does not meet its spec: waiting for a person" in script
    device.refresh_from_db()
    assert device.imaging_status == "awaiting_inventory"


def test_image_anyway_flags_the_device_and_chains_it_to_imaging(client, device_client, nuc_spec):
    nuc_spec.image_anyway = True
    nuc_spec.save()
    body = device_client.post("/api/inventory/submit", inventory()).json()
    assert body["imaging_status"] == "ready_for_imaging"
    assert body["spec_mismatches"] == [
        "expected 32 GiB memory, found 16 GiB",
        "expected 2 disks, found 1",
    ]
    assert Device.objects.get().fails_spec
    assert "sent to imaging anyway" in Device.objects.get().history.get(kind="inventory").note
    assert f"chain http://imaging.example/boot.ipxe?mac={MAC}" in boot(client)


def test_a_submission_that_fixes_the_hardware_clears_the_flag(client, device_client, nuc_spec):
    device_client.post("/api/inventory/submit", inventory())
    assert "chain http" not in boot(client)
    fixed = device_client.post("/api/inventory/submit", inventory(memory_mb=16384,
                                                                  disks=(NVME, SATA)))  # fmt: skip
    assert fixed.status_code == 200
    assert fixed.json()["spec_mismatches"] == []
    assert fixed.json()["imaging_status"] == "ready_for_imaging"
    device = Device.objects.get()
    assert not device.fails_spec
    assert device.spec_mismatches == []
    latest = device.history.filter(kind="inventory").first()
    assert latest.changes["spec check"] == [
        "expected 32 GiB memory, found 16 GiB; expected 2 disks, found 1",
        "meets its spec",
    ]
    assert "hardware meets its spec again" in latest.note
    assert f"chain http://imaging.example/boot.ipxe?mac={MAC}" in boot(client)


def test_the_same_hardware_again_goes_to_imaging_once_the_spec_says_image_anyway(
    client, device_client, nuc_spec
):
    device_client.post("/api/inventory/submit", inventory())
    assert "chain http" not in boot(client)
    nuc_spec.image_anyway = True
    nuc_spec.save()
    again = device_client.post("/api/inventory/submit", inventory()).json()
    assert again["imaging_status"] == "ready_for_imaging"
    assert again["spec_mismatches"] == [
        "expected 32 GiB memory, found 16 GiB",
        "expected 2 disks, found 1",
    ]
    assert f"chain http://imaging.example/boot.ipxe?mac={MAC}" in boot(client)


def test_a_ready_device_that_now_fails_its_spec_goes_back_to_waiting(device_client, nuc_spec):
    good = inventory(memory_mb=16384, disks=(NVME, SATA))
    assert device_client.post("/api/inventory/submit", good).json()["imaging_status"] == (
        "ready_for_imaging"
    )
    # A disk died: the next inventory finds one.
    body = device_client.post("/api/inventory/submit", inventory(memory_mb=16384)).json()
    assert body["spec_mismatches"] == ["expected 2 disks, found 1"]
    assert body["imaging_status"] == "awaiting_inventory"


def test_facts_not_reported_fail_the_requirements_on_them(device_client, nuc_spec):
    body = device_client.post("/api/inventory/submit", inventory(hardware=False)).json()
    assert body["spec_mismatches"] == [
        "expected a CPU matching 'i5-1135G7', not reported",
        "expected 32 GiB memory, not reported",
        "expected 2 disks, not reported",
    ]
    assert body["imaging_status"] == "awaiting_inventory"


def test_a_submission_without_hardware_is_checked_against_the_facts_known(device_client, nuc_spec):
    device_client.post("/api/inventory/submit", inventory(memory_mb=16384, disks=(NVME, SATA)))
    again = device_client.post("/api/inventory/submit", inventory(hardware=False)).json()
    assert again["spec_mismatches"] == []
    assert again["imaging_status"] == "ready_for_imaging"


def test_a_device_without_requirements_is_not_flagged(device_client, demo):
    from tests.conftest import DOC_SUBMIT

    body = device_client.post("/api/inventory/submit", DOC_SUBMIT).json()
    assert body["spec_mismatches"] == []
    assert body["imaging_status"] == "ready_for_imaging"
    assert not Device.objects.get(macs__mac=DOC_MAC).fails_spec


# --- the admin API -------------------------------------------------------------------------------


def test_the_admin_api_creates_edits_and_shows_requirements(admin_client):
    created = admin_client.post("/api/specs", {
        "name": "Dell PowerEdge R650",
        "requirements": {"cpu_pattern": "Xeon.*Gold", "min_cores": 16, "min_memory_gib": 64,
                         "min_disks": 2, "min_disk_gb": 480, "min_nics": 2, "modem": False},
    })  # fmt: skip
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["requirements"]["min_memory_gib"] == 64
    assert out["image_anyway"] is False
    spec_id = out["id"]
    edited = admin_client.put(f"/api/specs/{spec_id}", {
        "name": "Dell PowerEdge R650", "requirements": {"min_memory_gib": 128},
        "image_anyway": True,
    })  # fmt: skip
    assert edited.status_code == 200, edited.content
    assert edited.json()["requirements"] == {"min_memory_gib": 128}
    assert edited.json()["image_anyway"] is True
    audit = AuditEntry.objects.filter(object_type="spec", action="updated").get()
    assert audit.changes["image_anyway"] == [False, True]
    assert audit.changes["requirements"][1] == {"min_memory_gib": 128}
    listed = admin_client.get("/api/specs").json()
    assert listed[0]["requirements"] == {"min_memory_gib": 128}


BAD = [
    ("a regular expression that does not compile", {"cpu_pattern": "Xeon(Gold"},
     "requirements.cpu_pattern"),
    ("a backreference RE2 refuses", {"cpu_pattern": r"(i5)\1"}, "requirements.cpu_pattern"),
    ("an unknown requirement", {"min_memory_gb": 32}, "requirements.min_memory_gb"),
    ("a count as text", {"min_disks": "2"}, "requirements.min_disks"),
    ("a boolean as a count", {"min_cores": True}, "requirements.min_cores"),
    ("zero NICs", {"min_nics": 0}, "requirements.min_nics"),
    ("a memory past any machine", {"min_memory_gib": 2**40}, "requirements.min_memory_gib"),
    ("modem as text", {"modem": "yes"}, "requirements.modem"),
    ("not an object", ["min_cores"], "requirements"),
]  # fmt: skip


@pytest.mark.parametrize(("requirements", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requirements_are_a_400_naming_the_field_and_change_nothing(
    admin_client, requirements, field
):
    spec = spec_save(name="Dell PowerEdge R650", requirements={"min_cores": 8})
    renamed = {"name": "Renamed", "requirements": requirements}
    for answer in (
        admin_client.post("/api/specs", {"name": "Other", "requirements": requirements}),
        admin_client.put(f"/api/specs/{spec.pk}", renamed),
    ):
        assert answer.status_code == 400, answer.content
        assert answer.json()["field"] == field
    assert list(DeviceSpec.objects.values_list("name", "requirements")) == [
        ("Dell PowerEdge R650", {"min_cores": 8})
    ]


def test_image_anyway_must_be_a_boolean(admin_client):
    answer = admin_client.post("/api/specs", {"name": "X", "image_anyway": "yes"})
    assert answer.status_code == 400
    assert answer.json()["field"] == "image_anyway"


def test_the_device_api_shows_the_flag(admin_client, device_client, nuc_spec):
    device_client.post("/api/inventory/submit", inventory())
    device = Device.objects.get()
    detail = admin_client.get(f"/api/devices/{device.pk}").json()
    assert detail["fails_spec"] is True
    assert detail["spec_mismatches"][0] == {
        "fact": "memory",
        "message": "expected 32 GiB memory, found 16 GiB",
    }
    listed = admin_client.get("/api/devices", {"fails_spec": "true"}).json()
    assert [d["id"] for d in listed] == [device.pk]
    assert admin_client.get("/api/devices", {"fails_spec": "false"}).json() == []


def test_turning_to_failing_its_spec_is_a_webhook_event_with_the_reasons(
    device_client, nuc_spec, staff_user
):
    webhook_subscription_create(
        actor=staff_user, url="http://receiver.example/hook", event_types=["device.fails_spec"]
    )

    def told() -> list[dict]:
        events = WebhookEvent.objects.filter(type="device.fails_spec").order_by("id")
        return [json.loads(e.body)["data"] for e in events]

    assert device_client.post("/api/inventory/submit", inventory()).status_code == 200
    (first,) = told()
    assert first["spec_mismatches"] == [
        "expected 32 GiB memory, found 16 GiB",
        "expected 2 disks, found 1",
    ]
    assert first["device"]["id"] == Device.objects.get().pk
    device_client.post("/api/inventory/submit", inventory())
    assert len(told()) == 1  # the same failure again: not told again
    device_client.post("/api/inventory/submit", inventory(memory_mb=4096))
    assert told()[-1]["spec_mismatches"][0] == "expected 32 GiB memory, found 8 GiB"  # new reasons
    device_client.post("/api/inventory/submit", inventory(memory_mb=16384, disks=(NVME, SATA)))
    assert len(told()) == 2  # it passes now: no failure to tell
