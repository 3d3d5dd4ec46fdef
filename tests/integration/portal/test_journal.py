"""The submission journal: what waits for a person, raw bodies, and resolving a conflict."""

import pytest

from inventory.models import Device, Submission
from tests.factories import DeviceFactory, DeviceMacFactory
from tests.inventory_data import nuc, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(db):
    """One accepted, one rejected and one conflicting submission."""
    accepted = submit(nuc("02:aa:00:00:00:61", name="OK-1", serial="S-61"))
    rejected = submit({"mac_address": ["<b>not-a-mac</b>"]})
    owner = DeviceMacFactory(mac="02:aa:00:00:00:62").device
    holder = DeviceFactory(serial_number="S-62")
    conflict = submit(nuc("02:aa:00:00:00:62", name="X", serial="S-62"))
    assert [accepted.outcome, rejected.outcome, conflict.outcome] == [
        "accepted",
        "rejected",
        "conflict",
    ]
    return {
        "accepted": accepted,
        "rejected": rejected,
        "conflict": conflict,
        "owner": owner,
        "holder": holder,
    }


def _listed(response):
    return [row.record.pk for row in response.context["table"].paginated_rows]


def test_journal_shows_what_waits_for_a_person_by_default(staff_client, journal):
    listed = _listed(staff_client.get("/submissions/"))
    assert listed == [journal["conflict"].pk, journal["rejected"].pk]


def test_journal_filters_by_outcome(staff_client, journal):
    listed = _listed(staff_client.get("/submissions/", {"outcome": "accepted"}))
    assert listed == [journal["accepted"].pk]


def test_raw_body_and_error_are_shown_escaped(staff_client, journal):
    html = staff_client.get(f"/submissions/{journal['rejected'].pk}/").content.decode()
    assert "<b>not-a-mac</b>" not in html
    assert "&lt;b&gt;not-a-mac&lt;/b&gt;" in html
    assert "invalid_mac" in html


def test_a_conflict_page_offers_its_devices(staff_client, journal):
    response = staff_client.get(f"/submissions/{journal['conflict'].pk}/")
    html = response.content.decode()
    assert journal["owner"].pk in html
    assert journal["holder"].pk in html
    assert 'action="/submissions/' in html


def test_resolve_by_attaching_to_a_device(staff_client, staff_user, journal):
    entry, owner = journal["conflict"], journal["owner"]
    response = staff_client.post(
        f"/submissions/{entry.pk}/resolve/", {"action": "attach", "device_id": owner.pk}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.outcome, entry.device_id, entry.resolved_by) == ("resolved", owner.pk, staff_user)
    assert Device.objects.get(pk=owner.pk).serial_number == "S-62"


def test_resolve_by_creating_a_device(staff_client, journal):
    before = Device.objects.count()
    entry = journal["conflict"]
    staff_client.post(f"/submissions/{entry.pk}/resolve/", {"action": "create"})
    entry.refresh_from_db()
    assert entry.outcome == "resolved"
    assert Device.objects.count() == before + 1


def test_attach_without_a_device_is_a_form_error(staff_client, journal):
    entry = journal["conflict"]
    response = staff_client.post(f"/submissions/{entry.pk}/resolve/", {"action": "attach"})
    assert response.status_code == 400
    assert "device_id" in response.context["form"].errors
    assert Submission.objects.get(pk=entry.pk).outcome == "conflict"


def test_a_rejected_submission_cannot_be_resolved(staff_client, journal):
    entry = journal["rejected"]
    response = staff_client.post(f"/submissions/{entry.pk}/resolve/", {"action": "create"})
    assert response.status_code == 400
    assert "not a conflict" in " ".join(response.context["form"].non_field_errors())


def test_dashboard_counts_and_lists_what_waits(staff_client, journal):
    response = staff_client.get("/")
    assert response.context["attention_counts"] == {
        "conflict": 1,
        "rejected": 1,
        "suspect_serial": 0,
    }
    assert [e.pk for e in response.context["attention"]] == [
        journal["conflict"].pk,
        journal["rejected"].pk,
    ]
    counts = dict((v, n) for v, _, n in response.context["counts"]["inventory_status"])
    assert counts["newly_inventoried"] == 3


def test_audit_page_lists_resolutions_and_device_changes_by_people(staff_client, journal):
    entry = journal["conflict"]
    staff_client.post(f"/submissions/{entry.pk}/resolve/", {"action": "create"})
    html = staff_client.get("/audit/").content.decode()
    assert f"Submission #{entry.pk}" in html
    assert "gave its MACs/serial up" in html
