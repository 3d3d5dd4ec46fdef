"""A spec's requirements in the portal: the form saves them, its errors land on the field that
is wrong, the spec page lists them, and devices failing their spec show on the device page and
the dashboard."""

from __future__ import annotations

import pytest

from inventory.models import AuditEntry, DeviceSpec
from inventory.services.catalog import spec_save
from tests.inventory_data import submit

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Dell PowerEdge R650",
    "name_patterns": "*PowerEdge R650*",
    "capabilities": "{}",
    "cpu_pattern": "Xeon.*Gold",
    "min_cores": "16",
    "min_memory_gib": "64",
    "min_disks": "2",
    "min_disk_gb": "480",
    "min_nics": "2",
    "modem": "no",
    "image_anyway": "on",
}


def test_the_spec_form_saves_the_requirements(staff_client):
    response = staff_client.post("/specs/new/", FORM)
    spec = DeviceSpec.objects.get()
    assert response["Location"] == f"/specs/{spec.pk}/"
    assert spec.requirements == {
        "cpu_pattern": "Xeon.*Gold",
        "min_cores": 16,
        "min_memory_gib": 64,
        "min_disks": 2,
        "min_disk_gb": 480,
        "min_nics": 2,
        "modem": False,
    }
    assert spec.image_anyway is True
    page = staff_client.get(f"/specs/{spec.pk}/").content.decode()
    assert 'value="Xeon.*Gold"' in page
    assert '<option value="no" selected>' in page


def test_the_spec_form_edits_and_clears_requirements(staff_client):
    spec = spec_save(name="Dell PowerEdge R650", requirements={"min_cores": 8, "modem": True})
    form = {"name": spec.name, "capabilities": "{}", "min_memory_gib": "32", "modem": ""}
    response = staff_client.post(f"/specs/{spec.pk}/", form)
    assert response.status_code == 302
    spec.refresh_from_db()
    assert spec.requirements == {"min_memory_gib": 32}
    assert spec.image_anyway is False
    audit = AuditEntry.objects.filter(object_type="spec", action="updated").get()
    assert audit.changes["requirements"] == [
        {"min_cores": 8, "modem": True},
        {"min_memory_gib": 32},
    ]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("cpu_pattern", "Xeon(Gold", "not a valid regular expression"),
        ("cpu_pattern", r"(i5)\1", "not a valid regular expression"),
        ("min_cores", "0", "between 1 and 4096"),
        ("min_memory_gib", "99999999", "between 1 and"),
        ("min_disks", "two", "whole number"),
        ("min_nics", "-1", "between 1 and 64"),
    ],
    ids=["unbalanced", "backreference", "zero cores", "huge memory", "not a number", "negative"],
)
def test_a_bad_requirement_is_an_error_on_its_field(staff_client, field, value, words):
    response = staff_client.post("/specs/new/", {**FORM, field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in " ".join(errors[field]).lower()
    assert not DeviceSpec.objects.exists()


def test_the_spec_page_lists_the_requirements_to_a_member(member_client):
    spec = spec_save(
        name="Intel NUC 11 Pro",
        requirements={"cpu_pattern": "i5-1135G7", "min_memory_gib": 32, "min_disks": 2,
                      "min_disk_gb": 480, "modem": False},
        image_anyway=True,
    )  # fmt: skip
    page = member_client.get(f"/specs/{spec.pk}/").content.decode()
    for line in (
        "CPU model matches &#x27;i5-1135G7&#x27;",
        "at least 32 GiB memory",
        "at least 2 disks of at least 480 GB",
        "no modem",
        "image anyway",
    ):
        assert line in page


def _failing_device(staff_user):
    spec_save(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"],
              requirements={"min_memory_gib": 32, "min_disks": 2})  # fmt: skip
    data = {
        "mac_address": ["eno1:00:e0:4c:68:01:10"],
        "device_name": "PVE-1201",
        "serial_number": "G6TN014X",
        "device_spec": "NUC11TNHi5",
        "hardware": {
            "memory_modules": [{"slot": "DIMM 0", "size_mb": 16384}],
            "disks": [{"name": "nvme0n1", "size_bytes": 512_110_190_592, "transport": "nvme"}],
        },
    }
    return submit(data).device


def test_the_device_page_and_the_dashboard_show_a_device_failing_its_spec(staff_client, staff_user):
    device = _failing_device(staff_user)
    page = staff_client.get(f"/devices/{device.pk}/").content.decode()
    assert 'data-testid="spec-mismatch"' in page
    assert "expected 32 GiB memory, found 16 GiB" in page
    assert "expected 2 disks, found 1" in page
    assert "held from imaging" in page
    assert "spec check" in page  # the history's change
    dashboard = staff_client.get("/").content.decode()
    assert "Failing their spec" in dashboard
    assert f'href="/devices/{device.pk}/"' in dashboard
    assert "expected 32 GiB memory, found 16 GiB; expected 2 disks, found 1" in dashboard
    listed = staff_client.get("/devices/", {"fails_spec": "true"}).content.decode()
    assert device.pk in listed
    assert 'title="expected 32 GiB memory, found 16 GiB; expected 2 disks, found 1"' in listed
    assert device.pk not in staff_client.get("/devices/", {"fails_spec": "false"}).content.decode()


def test_a_member_sees_no_other_organizations_failing_devices(member_client, staff_user):
    device = _failing_device(staff_user)  # no organization: staff only
    dashboard = member_client.get("/").content.decode()
    assert device.pk not in dashboard
    assert "Every device meets its spec." in dashboard
