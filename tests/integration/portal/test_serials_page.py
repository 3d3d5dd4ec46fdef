"""The portal's suspect-serials page: staff see each serial, confirm or clear it by POST."""

import pytest
from django.test import Client

from inventory.models import AuditEntry, Submission, SuspectSerial
from inventory.services.serials import serial_decide
from tests.inventory_data import submit

pytestmark = pytest.mark.django_db

SERIAL = "MXL7281Q2K"


@pytest.fixture
def suspect():
    """Three machines reporting MXL7281Q2K: suspect, the second machine's merge waiting."""
    for i in (1, 2, 3):
        submit({"mac_address": [f"eth0:02:5e:00:00:{i:02x}:00"], "serial_number": SERIAL})
    return SuspectSerial.objects.get(serial=SERIAL)


def test_the_page_lists_the_serial_its_mac_sets_and_the_waiting_merge(staff_client, suspect):
    response = staff_client.get("/serials/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-serial="{SERIAL}" data-state="suspect"' in html
    for i in (1, 2, 3):
        assert f"02:5e:00:00:{i:02x}:00" in html
    waiting = Submission.objects.get(outcome="conflict", error__code="suspect_serial_merge")
    assert f'href="/submissions/{waiting.pk}/"' in html
    assert "3 or more machines" in html


def test_the_page_filters_by_state_and_names_a_bad_one(staff_client, suspect):
    assert SERIAL not in staff_client.get("/serials/", {"state": "cleared"}).content.decode()
    response = staff_client.get("/serials/", {"state": "nonsense"})
    assert response.status_code == 400
    assert SERIAL not in response.content.decode().split("<tbody>")[1]


def test_staff_clear_then_confirm_a_serial_with_csrf_and_it_is_audited(staff_user, suspect):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    url = f"/serials/{suspect.pk}/decide/"
    assert client.post(url, {"decision": "clear"}).status_code == 403  # no CSRF token
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"
    client.get("/serials/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        url, {"decision": "clear", "note": "one machine", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert response["Location"] == "/serials/"
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "cleared"
    client.post(url, {"decision": "confirm", "csrfmiddlewaretoken": token})
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "confirmed"
    audit = AuditEntry.objects.filter(object_type="serial", actor=staff_user).order_by("id")
    assert [a.changes["state"] for a in audit] == [["suspect", "cleared"], ["cleared", "confirmed"]]


def test_a_bad_decision_is_shown_and_changes_nothing(staff_client, suspect):
    response = staff_client.post(
        f"/serials/{suspect.pk}/decide/", {"decision": "maybe"}, follow=True
    )
    assert "decision" in response.content.decode()
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"


def test_a_member_may_not_decide(member_client, suspect):
    assert (
        member_client.post(f"/serials/{suspect.pk}/decide/", {"decision": "clear"}).status_code
        == 403
    )
    assert SuspectSerial.objects.get(pk=suspect.pk).state == "suspect"


def test_an_unknown_serial_is_a_404(staff_client):
    assert staff_client.post("/serials/999/decide/", {"decision": "clear"}).status_code == 404


def test_the_navbar_links_the_page_for_staff_only(staff_client, member_client):
    assert 'href="/serials/"' in staff_client.get("/").content.decode()
    assert 'href="/serials/"' not in member_client.get("/").content.decode()


def test_a_flagged_merge_in_the_journal_links_the_serials_page(staff_client, suspect):
    waiting = Submission.objects.get(outcome="conflict", error__code="suspect_serial_merge")
    html = staff_client.get(f"/submissions/{waiting.pk}/").content.decode()
    assert 'href="/serials/"' in html.split("</nav>", 1)[1]
    assert 'name="action"' in html  # the resolve form: attach or create


def test_the_dashboard_counts_suspect_serials_for_staff(staff_client, suspect):
    html = staff_client.get("/").content.decode()
    assert 'href="/serials/?state=suspect"' in html
    assert "1 suspect serial<" in html


def test_a_device_page_says_its_serial_is_a_placeholder(staff_client, suspect):
    from inventory.models import Device

    device = Device.objects.filter(serial_number=SERIAL).first()
    html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    assert 'data-testid="serial-placeholder"' in html
    serial_decide(suspect_id=suspect.pk, decision="clear", actor=None)
    html = staff_client.get(f"/devices/{device.pk}/").content.decode()
    assert 'data-testid="serial-placeholder"' not in html
