"""The boot timeline: every step a device walks, recorded from the calls it really makes."""

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import BootEvent, Device
from inventory.services import timeline
from tests.conftest import DOC_MAC, DOC_SUBMIT, SERVICE_KEY

pytestmark = pytest.mark.django_db
HOST = "10.0.2.100"


def boot(client, mac):
    response = client.get("/pxe/boot.ipxe", {"mac": mac}, HTTP_HOST=HOST)
    assert response.status_code == 200
    return response.content.decode()


def progress_urls(script: str) -> dict[str, str]:
    """step -> path and query of each progress fetch in the boot script."""
    urls = re.findall(r"imgfetch --name arrow-progress (\S+)", script)
    found = {}
    for url in urls:
        parts = urlsplit(url)
        step = re.search(r"step=(\w+)", parts.query).group(1)
        found[step] = f"{parts.path}?{parts.query}"
    return found


def token_of(script: str) -> str:
    return re.search(r"arrow\.token=(\S+)", script).group(1)


def with_errors(body):
    body = json.loads(json.dumps(body))
    body["inventory_data"]["hardware"] = {
        "collection_errors": [{"collector": "modem", "stage": "run", "message": "mmcli: timeout"}]
    }
    return body


def steps_of(mac):
    return list(
        BootEvent.objects.filter(mac=mac).order_by("at", "id").values_list("step", flat=True)
    )


def test_a_first_boot_walks_every_step_and_the_device_page_shows_it(client, demo, staff_user):
    script = boot(client, DOC_MAC)
    urls = progress_urls(script)
    assert set(urls) == {"kernel", "initrd"}
    token = token_of(script)
    assert token not in script.split("arrow-progress", 1)[1].split("\n", 1)[0]  # key, not token
    for step in ("kernel", "initrd"):
        response = client.get(urls[step], HTTP_HOST=HOST)
        assert (response.status_code, response.content) == (200, b"ok\n")
    started = client.post(
        "/api/inventory/started", b"{}", content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip
    assert started.status_code == 200, started.content
    assert started.json()["step"] == "agent"
    submitted = client.post(
        "/api/inventory/submit", json.dumps(with_errors(DOC_SUBMIT)),
        content_type="application/json", headers={"X-Inventory-Token": token},
    )  # fmt: skip
    assert submitted.status_code == 200, submitted.content
    device = Device.objects.get()
    assert steps_of(DOC_MAC) == ["boot", "kernel", "initrd", "agent", "collect_failed", "submit"]
    submit = BootEvent.objects.get(step="submit")
    assert (submit.device_id, submit.detail["outcome"]) == (device.pk, "accepted")

    steps = timeline.device_timeline(device)
    assert [s.event.step for s in steps][:2] == ["boot", "kernel"]  # from before it existed
    assert steps[0].since_previous is None
    assert all(s.since_previous >= timedelta(0) for s in steps[1:])
    operator = Client()
    operator.force_login(staff_user)
    page = operator.get(f"/devices/{device.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="timeline"' in html
    for label in ("Boot script served (inventory)", "Kernel fetched", "Initrd fetched",
                  "Agent started", "Collection step failed: modem/run", "mmcli: timeout",
                  "Inventory submitted: accepted"):  # fmt: skip
        assert label in html, label


def test_imaging_chain_and_report_are_steps(client, demo, settings):
    settings.ARROW_IMAGING_URL = "http://imaging.example/boot/{device_id}"
    token = token_of(boot(client, DOC_MAC))
    client.post(
        "/api/inventory/submit", json.dumps(DOC_SUBMIT), content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip
    device = Device.objects.get()
    assert "chain http://imaging.example/boot/" in boot(client, DOC_MAC)
    reported = client.post(
        "/api/inventory/imaging-status",
        json.dumps({"device_id": device.pk, "status": "failed", "reason": "disk 0 missing"}),
        content_type="application/json", headers={"X-Service-Api-Key": SERVICE_KEY},
    )  # fmt: skip
    assert reported.status_code == 200
    imaging = BootEvent.objects.get(step="imaging")
    assert imaging.action == "imaging"
    assert imaging.detail["chain_url"].endswith(device.pk)
    report = BootEvent.objects.get(step="imaged")
    assert report.detail == {"status": "failed", "reason": "disk 0 missing"}
    labels = [s.label for s in timeline.device_timeline(device)]
    assert labels[-2:] == ["Sent to imaging (imaging)", "Imaging reported: failed"]


def test_a_rejected_submission_is_a_step_with_its_code(client, demo):
    token = token_of(boot(client, DOC_MAC))
    body = json.loads(json.dumps(DOC_SUBMIT))
    body["inventory_data"]["sn_source"] = "guess"
    response = client.post(
        "/api/inventory/submit", json.dumps(body), content_type="application/json",
        headers={"X-Inventory-Token": token},
    )  # fmt: skip
    assert response.status_code == 400
    event = BootEvent.objects.get(step="submit")
    assert event.detail["outcome"] == "rejected"
    assert event.detail["code"]
    assert event.device_id is None


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("step=kernel&key=wrong", 401),
        ("step=kernel", 401),
        ("step=agent&key=x", 400),  # the agent reports through the API, with its token
        ("step=kernel&key=x&mac=nonsense", 400),
    ],
)
def test_progress_refuses_what_it_cannot_trust_and_records_nothing(client, demo, query, status):
    boot(client, DOC_MAC)
    if "mac=" not in query:
        query += f"&mac={DOC_MAC}"
    response = client.get(f"/pxe/progress?{query}", HTTP_HOST=HOST)
    assert response.status_code == status
    assert steps_of(DOC_MAC) == ["boot"]


def test_started_needs_a_boot_token(client, demo):
    boot(client, DOC_MAC)
    for headers in ({}, {"X-Inventory-Token": "nope"}, {"X-Service-Api-Key": SERVICE_KEY}):
        response = client.post(
            "/api/inventory/started", b"{}", content_type="application/json", headers=headers
        )
        assert response.status_code == 401, headers
    assert steps_of(DOC_MAC) == ["boot"]


def test_progress_of_a_used_token_is_refused(client, demo):
    script = boot(client, DOC_MAC)
    client.post(
        "/api/inventory/submit", json.dumps(DOC_SUBMIT), content_type="application/json",
        headers={"X-Inventory-Token": token_of(script)},
    )  # fmt: skip
    response = client.get(progress_urls(script)["kernel"], HTTP_HOST=HOST)
    assert response.status_code == 401


def test_the_progress_fetch_cannot_stop_the_boot(client, demo):
    """A failed report runs `echo`, which succeeds, so the retry wrapper's goto is not taken."""
    script = boot(client, DOC_MAC)
    lines = [line for line in script.splitlines() if "arrow-progress" in line]
    assert len(lines) == 2 * 6  # kernel and initrd, in each of the six tries
    for line in lines:
        fetch, rest = line.split(" && imgfree arrow-progress || echo ", 1)
        assert fetch.startswith("imgfetch --name arrow-progress http://")
        assert re.fullmatch(r"ARROW: could not report \w+ progress \(the boot goes on\)"
                            r" \|\| goto arrow_(retry\d|give_up)", rest), rest  # fmt: skip


@pytest.mark.parametrize(
    ("step", "action", "age_s", "expected"),
    [
        ("boot", "inventory", 30, None),
        (
            "boot",
            "inventory",
            400,
            "Boot script served (inventory) 6 min ago, kernel never fetched",
        ),
        ("kernel", "", 360, "Kernel fetched 6 min ago, initrd never fetched"),
        (
            "initrd",
            "",
            360,
            "Initrd fetched 6 min ago, agent never started: check the image and the NIC driver",
        ),
        ("agent", "", 360, "Agent started 6 min ago, no inventory submitted"),
        ("imaging", "imaging", 1800, None),  # imaging takes longer
        ("imaging", "imaging", 4000, "Sent to imaging (imaging) 1 h 6 min ago, no imaging report"),
        ("boot", "local", 9000, None),  # finished: boots from its disk
        ("imaged", "", 9000, None),
    ],
)
def test_stuck_hint_names_the_step_and_what_never_happened(step, action, age_s, expected):
    now = timezone.now()
    event = BootEvent(step=step, action=action, mac=DOC_MAC, at=now - timedelta(seconds=age_s))
    hint = timeline.stuck_hint(event, now)
    if expected is None:
        assert hint is None
    else:
        assert hint is not None
        assert hint.startswith(expected), hint


def test_live_view_keeps_the_latest_step_per_mac_and_drops_finished(client, demo, staff_user):
    boot(client, DOC_MAC)
    boot(client, "02:00:00:00:99:01")  # unknown: told to boot locally, finished
    rows = timeline.onboarding_live(user=staff_user)
    assert [(r.event.mac, r.event.step) for r in rows] == [(DOC_MAC, "boot")]
    assert rows[0].group == f"Demo Org / request #{demo['request'].pk}"
    later = timezone.now() + timedelta(minutes=6)
    assert timeline.onboarding_live(user=staff_user, now=later)[0].stuck.startswith(
        "Boot script served (inventory) 6 min ago"
    )
