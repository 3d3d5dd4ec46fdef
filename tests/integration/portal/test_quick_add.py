"""Quick MAC Inventory through the portal: one MAC, then many (pasted or a CSV file)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Device

pytestmark = pytest.mark.django_db


def _messages(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_single_add_shows_the_normalized_mac_and_links_the_device(staff_client, orgs):
    response = staff_client.post(
        "/quick-add/",
        {"single-mac_address": "00-E0-4C-92-F7-A4", "single-organization": orgs["own"].pk},
        follow=True,
    )
    device = Device.objects.get()
    ((level, text),) = _messages(response)
    assert level == "success"
    assert "00:e0:4c:92:f7:a4" in text
    assert f'href="/devices/{device.pk}/"' in text
    assert device.organization == orgs["own"]
    assert device.inventory_status == "manually_added"


def test_a_known_mac_warns_with_a_link_and_adds_nothing(staff_client, orgs):
    data = {"single-mac_address": "00-E0-4C-92-F7-A4", "single-organization": orgs["own"].pk}
    staff_client.post("/quick-add/", data, follow=True)
    data["single-mac_address"] = "00e0.4c92.f7a4"
    response = staff_client.post("/quick-add/", data, follow=True)
    device = Device.objects.get()
    ((level, text),) = _messages(response)
    assert level == "warning"
    assert f'href="/devices/{device.pk}/"' in text


@pytest.mark.parametrize(
    ("typed", "message"),
    [("12:34", "is not a MAC address"), ("ff:ff:ff:ff:ff:ff", "shared by many machines")],
    ids=["not a mac", "shared mac"],
)
def test_an_unusable_mac_is_a_form_error(staff_client, orgs, typed, message):
    response = staff_client.post(
        "/quick-add/", {"single-mac_address": typed, "single-organization": orgs["own"].pk}
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["single"].errors["mac_address"])
    assert Device.objects.count() == 0


def test_bulk_paste_reports_each_line(staff_client, orgs):
    Device.objects.all().delete()
    staff_client.post(
        "/quick-add/",
        {"single-mac_address": "02:aa:00:00:00:03", "single-organization": orgs["own"].pk},
    )
    response = staff_client.post(
        "/quick-add/bulk/",
        {
            "bulk-organization": orgs["own"].pk,
            "bulk-macs": "02-AA-00-00-00-01\n\nbogus\n02aa.0000.0002\n02:aa:00:00:00:03\n",
        },
    )
    assert response.status_code == 200
    outcomes = [(r.line, r.outcome, r.mac) for r in response.context["results"]]
    assert outcomes == [
        (1, "added", "02:aa:00:00:00:01"),
        (3, "invalid", None),
        (4, "added", "02:aa:00:00:00:02"),
        (5, "exists", "02:aa:00:00:00:03"),
    ]
    assert response.context["summary"] == {"added": 2, "exists": 1, "invalid": 1}


def test_bulk_csv_upload_skips_the_header(staff_client, orgs):
    upload = SimpleUploadedFile(
        "macs.csv", b"mac,rack\r\n02:aa:00:00:00:21,R1\r\n02:aa:00:00:00:22,R1\r\n", "text/csv"
    )
    response = staff_client.post(
        "/quick-add/bulk/", {"bulk-organization": orgs["own"].pk, "bulk-csv_file": upload}
    )
    assert [r.outcome for r in response.context["results"]] == ["added", "added"]
    assert Device.objects.count() == 2


def test_bulk_with_nothing_to_add_is_a_form_error(staff_client, orgs):
    response = staff_client.post("/quick-add/bulk/", {"bulk-organization": orgs["own"].pk})
    assert response.status_code == 400
    assert response.context["bulk"].non_field_errors()


def test_bulk_binary_file_is_a_form_error(staff_client, orgs):
    upload = SimpleUploadedFile("macs.csv", b"\xff\xfe\x00bad", "text/csv")
    response = staff_client.post(
        "/quick-add/bulk/", {"bulk-organization": orgs["own"].pk, "bulk-csv_file": upload}
    )
    assert response.status_code == 400
    assert "csv_file" in response.context["bulk"].errors
