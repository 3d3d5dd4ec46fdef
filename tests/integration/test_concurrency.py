"""Many devices boot at once: real parallel connections to a real PostgreSQL server.

Each thread opens its own database connection; a Barrier lines them up so the requests really
overlap. Deselected on SQLite (which serializes writers and proves nothing here).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from inventory.errors import Conflict
from inventory.models import Device, DeviceMac, SerialSighting, Submission, SuspectSerial
from inventory.services.devices import device_quick_add
from inventory.services.submission import submission_resolve
from tests.conftest import DOC_SUBMIT, SERVICE_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def run_together(work: Callable[[int], object], count: int = THREADS) -> list[object]:
    """Runs work(i) in *count* threads released at the same instant; returns results in order."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def post_submit(body: dict) -> int:
    response = Client().post(
        "/api/inventory/submit",
        json.dumps(body),
        content_type="application/json",
        headers={"X-Service-Api-Key": SERVICE_KEY},
    )
    return response.status_code


def test_concurrent_identical_submissions_create_one_device(demo):
    statuses = run_together(lambda i: post_submit(DOC_SUBMIT))
    assert statuses == [200] * THREADS
    assert Device.objects.count() == 1
    assert Submission.objects.filter(outcome="accepted").count() == THREADS
    assert DeviceMac.objects.count() == 2


def test_concurrent_same_serial_different_macs_create_one_device(demo, settings):
    # What this proves is that identification by serial is serialized: one device, not eight.
    # Eight machines reporting one serial is what the suspect-serial rule calls a placeholder
    # (test_concurrent_machines_sharing_a_serial_... below), so the rule is set beyond them.
    settings.ARROW_SUSPECT_SERIAL_MAC_SETS = THREADS + 1

    def body(i: int) -> dict:
        data = json.loads(json.dumps(DOC_SUBMIT))
        data["inventory_data"]["mac_address"] = [f"eth0:02:00:00:00:10:{i:02x}"]
        return data

    statuses = run_together(lambda i: post_submit(body(i)))
    assert statuses == [200] * THREADS
    assert Device.objects.count() == 1
    assert Submission.objects.count() == THREADS


def test_concurrent_quick_adds_of_one_mac_create_one_device(demo):
    def add(i: int):
        try:
            return device_quick_add(mac_address="AA-BB-CC-00-00-01", organization="Demo Org").pk
        except Conflict as exc:
            return exc.code

    results = run_together(add)
    created = [r for r in results if isinstance(r, str) and r.startswith("dev-")]
    assert len(created) == 1, results
    assert results.count("mac_already_registered") == THREADS - 1
    assert Device.objects.count() == 1


def test_quick_add_racing_a_submission_of_the_same_mac_makes_one_device(demo):
    def work(i: int):
        if i % 2:
            try:
                return device_quick_add(mac_address=DOC_SUBMIT["inventory_data"]["mac_address"][0]
                                        .split(":", 1)[1], organization="Demo Org").pk  # fmt: skip
            except Conflict as exc:
                return exc.code
        return post_submit(DOC_SUBMIT)

    results = run_together(work, count=4)
    assert Device.objects.count() == 1, results
    assert all(r in (200, "mac_already_registered") or str(r).startswith("dev-") for r in results)


def test_many_different_devices_at_once_each_get_one_record(demo):
    def body(i: int) -> dict:
        return {
            "inventory_data": {
                "mac_address": [f"eth0:02:00:00:01:00:{i:02x}", f"eth1:02:00:00:01:01:{i:02x}"],
                "serial_number": f"SER-{i:04d}",
                "sn_source": "dmidecode",
                "device_spec": "Intel NUC 11 Pro",
            }
        }

    statuses = run_together(lambda i: [post_submit(body(i)) for _ in range(3)], count=THREADS)
    assert statuses == [[200, 200, 200]] * THREADS
    assert Device.objects.count() == THREADS
    assert DeviceMac.objects.count() == 2 * THREADS


def machine_body(serial: str, i: int) -> dict:
    """Machine *i* of a batch whose BIOS template gives every unit *serial*: two NICs of its own."""
    tag = sum(map(ord, serial)) % 256
    return {
        "inventory_data": {
            "mac_address": [
                f"eth0:02:5f:{tag:02x}:00:00:{i:02x}",
                f"eth1:02:5f:{tag:02x}:00:01:{i:02x}",
            ],
            "serial_number": serial,
            "device_spec": "Intel NUC 11 Pro",
        }
    }


def fleet_outcome(serial: str) -> dict:
    """What the fleet looks like for *serial*: devices, the serial's state, the merges waiting
    for a person, and whether each machine's MACs are on exactly one device of their own."""
    devices = Device.objects.filter(serial_number=serial).prefetch_related("macs")
    machines_per_device = [{m.mac[-5:-3] + m.mac[-2:] for m in d.macs.all()} for d in devices]
    suspect = SuspectSerial.objects.filter(serial=serial).first()
    flagged = Submission.objects.filter(
        outcome="conflict", error__code="suspect_serial_merge", device__serial_number=serial
    )
    return {
        "devices": devices.count(),
        "state": suspect.state if suspect else None,
        "flagged": flagged.count(),
        "sightings": SerialSighting.objects.filter(serial=serial).count(),
        # Each device holds both NICs of one machine (eth0's and eth1's MACs end alike).
        "each_device_one_machine": all(
            len({k[2:] for k in keys}) == 1 and len(keys) == 2 for keys in machines_per_device
        ),
    }


@pytest.mark.parametrize("threshold", [2, 3], ids=["threshold 2", "threshold 3 (default)"])
def test_concurrent_machines_sharing_a_serial_end_as_if_they_came_one_by_one(
    demo, settings, threshold
):
    settings.ARROW_SUSPECT_SERIAL_MAC_SETS = threshold
    statuses = run_together(lambda i: post_submit(machine_body("MXL7281CONC", i)))
    assert statuses == [200] * THREADS
    for i in range(THREADS):
        assert post_submit(machine_body("MXL7281SEQ", i)) == 200
    together, one_by_one = fleet_outcome("MXL7281CONC"), fleet_outcome("MXL7281SEQ")
    assert together == one_by_one
    # Below the threshold the serial identifies, so the machines before it merge into the
    # first device (threshold - 2 merges); each of them waits for a person.
    merges = threshold - 2
    assert together == {
        "devices": THREADS - merges,
        "state": "suspect",
        "flagged": merges,
        "sightings": THREADS,
        "each_device_one_machine": True,
    }
    # A person makes each flagged merge a device of its own: eight devices, one per machine.
    for entry in Submission.objects.filter(outcome="conflict"):
        submission_resolve(submission_id=entry.pk, action="create")
    for serial in ("MXL7281CONC", "MXL7281SEQ"):
        assert fleet_outcome(serial) == {
            "devices": THREADS, "state": "suspect", "flagged": 0, "sightings": THREADS,
            "each_device_one_machine": True,
        }  # fmt: skip
