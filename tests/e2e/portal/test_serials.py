"""The suspect-serials page in a real browser: staff find it in the navbar and decide."""

from playwright.sync_api import expect

from inventory.models import AuditEntry, SuspectSerial
from tests.inventory_data import nuc, submit

SERIAL = "MXL7281Q2K"


def three_machines_with_one_serial() -> None:
    for i in (1, 2, 3):
        submit(nuc(f"02:5e:00:00:{i:02x}:00", name=f"LAB-{i}", serial=SERIAL))


def test_staff_clear_a_suspect_serial_from_the_navbar(staff_page):
    page = staff_page
    three_machines_with_one_serial()
    page.get_by_role("link", name="Serials").click()
    expect(page.get_by_role("heading", name="Suspect serials")).to_be_visible()
    row = page.locator(f'tr[data-serial="{SERIAL}"]')
    expect(row).to_have_attribute("data-state", "suspect")
    expect(row.get_by_test_id("machines")).to_contain_text("3")
    expect(row).to_contain_text("02:5e:00:00:03:00")
    expect(row.get_by_test_id("waiting").get_by_role("link")).to_have_count(1)
    row.get_by_placeholder("Note (why)").fill("one machine, boards swapped")
    row.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("message-success")).to_have_text(f"Serial {SERIAL}: Cleared.")
    row = page.locator(f'tr[data-serial="{SERIAL}"]')
    expect(row).to_have_attribute("data-state", "cleared")
    expect(row).to_contain_text("operator")
    expect(row.get_by_role("button", name="Clear")).to_be_disabled()
    suspect = SuspectSerial.objects.get(serial=SERIAL)
    assert (suspect.state, suspect.note) == ("cleared", "one machine, boards swapped")
    assert AuditEntry.objects.filter(object_type="serial", actor__username="operator").exists()
    # The waiting merge opens in the journal, ready to be resolved.
    row.get_by_test_id("waiting").get_by_role("link").click()
    expect(page.get_by_text("suspect_serial_merge").first).to_be_visible()
    assert page.external_requests == []


def test_a_member_sees_no_serials_link_and_is_refused_the_page(member_page):
    page = member_page
    expect(page.get_by_role("link", name="Serials")).to_have_count(0)
    assert page.goto("/serials/").status == 403
