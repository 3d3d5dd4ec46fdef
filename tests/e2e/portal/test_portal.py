"""The portal in a real browser (Debian chromium via Playwright) against the live server."""

import re

from playwright.sync_api import expect

from inventory.choices import InventoryStatus
from inventory.models import Device
from tests.factories import DeviceFactory, DeviceMacFactory, DeviceSpecFactory
from tests.inventory_data import nuc, submit


def test_login_with_a_wrong_password_fails_and_the_right_one_shows_the_dashboard(page, staff_user):
    page.goto("/devices/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/devices/$"))
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("staff-pw-e2e")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    expect(page.get_by_test_id("user")).to_contain_text("operator")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    assert page.external_requests == []


def test_quick_add_shows_the_normalized_mac_then_warns_on_the_same_mac(staff_page, orgs):
    page = staff_page
    page.get_by_role("link", name="Quick MAC Inventory").first.click()
    form = page.get_by_test_id("quick-add-single")
    form.get_by_label("MAC address").fill("00-E0-4C-92-F7-B1")
    form.get_by_label("Target organization").select_option(label="Blue Team")
    form.get_by_role("button", name="Add").click()
    success = page.get_by_test_id("message-success")
    expect(success).to_contain_text("00:e0:4c:92:f7:b1")
    device = Device.objects.get(macs__mac="00:e0:4c:92:f7:b1")
    assert device.inventory_status == InventoryStatus.MANUALLY_ADDED
    assert device.flagged_for_inventory

    form = page.get_by_test_id("quick-add-single")
    form.get_by_label("MAC address").fill("00e0.4c92.f7b1")
    form.get_by_label("Target organization").select_option(label="Blue Team")
    form.get_by_role("button", name="Add").click()
    warning = page.get_by_test_id("message-warning")
    expect(warning).to_contain_text("already registered")
    expect(warning).to_contain_text("00:e0:4c:92:f7:b1")
    warning.get_by_role("link", name=device.pk).click()
    expect(page.get_by_test_id("device-title")).to_contain_text(device.pk)
    expect(page.get_by_test_id("macs")).to_contain_text("00:e0:4c:92:f7:b1")
    assert Device.objects.filter(macs__mac="00:e0:4c:92:f7:b1").count() == 1


def test_bulk_quick_add_reports_each_line(staff_page, orgs):
    page = staff_page
    page.goto("/quick-add/")
    form = page.get_by_test_id("quick-add-bulk")
    form.get_by_label("Target organization").select_option(label="Blue Team")
    form.get_by_label("MAC addresses").fill("02:AA:00:00:01:01\nnot-a-mac\n02aa.0000.0102\n")
    form.get_by_role("button", name="Add all").click()
    results = page.get_by_test_id("bulk-results")
    expect(results.locator("tr[data-outcome=added]")).to_have_count(2)
    expect(results.locator("tr[data-outcome=invalid]")).to_have_count(1)
    expect(results.locator("tr[data-outcome=invalid]")).to_contain_text("not-a-mac")
    expect(results).to_contain_text("02:aa:00:00:01:02")
    expect(results).to_contain_text("2 added")


def test_search_finds_a_device_by_a_mac_typed_in_any_form(staff_page):
    page = staff_page
    wanted = DeviceMacFactory(mac="00:e0:4c:92:f7:a4").device
    DeviceMacFactory()  # another device, which the search must not show
    page.get_by_placeholder("MAC, serial, name…").fill("00-E0-4C-92-F7-A4")
    page.get_by_placeholder("MAC, serial, name…").press("Enter")
    expect(page).to_have_url(re.compile(r"/devices/\?q=00-E0-4C-92-F7-A4$"))
    rows = page.locator("tbody tr[data-device]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(wanted.pk)
    # The search is a link: the same URL opened directly gives the same list.
    page.goto("/devices/?q=00e0.4c92.f7a4")
    expect(page.locator("tbody tr[data-device]")).to_have_count(1)


def test_bulk_status_update_of_three_devices(staff_page):
    page = staff_page
    devices = [DeviceFactory(name=f"RACK-{i}") for i in range(4)]
    page.goto("/devices/?sort=name")
    for device in devices[:3]:
        page.locator(f'tr[data-device="{device.pk}"] input[name=device_ids]').check()
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    page.get_by_label("Set inventory status to").select_option(label="Reviewed")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_test_id("message-success")).to_have_text("3 devices set to Reviewed.")
    for device in devices[:3]:
        expect(page.locator(f'tr[data-device="{device.pk}"]')).to_contain_text("Reviewed")
    expect(page.locator(f'tr[data-device="{devices[3].pk}"]')).to_contain_text("Newly inventoried")
    statuses = {d.pk: d.inventory_status for d in Device.objects.all()}
    assert [statuses[d.pk] for d in devices] == ["reviewed"] * 3 + ["newly_inventoried"]


def test_device_detail_after_two_inventories_shows_what_changed(staff_page):
    page = staff_page
    DeviceSpecFactory(name="Intel NUC 11 Pro", name_patterns=["*NUC11TN*"])
    mac = "02:aa:00:00:02:01"
    first = submit(nuc(mac, name="PVE-1001", serial="G6TN1001"))
    submit(nuc(mac, name="PVE-1001-B", serial="G6TN1001", has_modem=True, imei="490154203237518"))
    page.goto(f"/devices/{first.device_id}/")
    expect(page.get_by_test_id("spec")).to_contain_text("Intel NUC 11 Pro")
    expect(page.get_by_test_id("spec")).to_contain_text("NUC11TNHi5")
    expect(page.get_by_test_id("serial")).to_contain_text("G6TN1001")
    history = page.get_by_test_id("history")
    expect(history.locator("tr[data-kind=inventory]")).to_have_count(2)
    latest = history.locator("tr[data-kind=inventory]").first
    expect(latest).to_contain_text("name: PVE-1001 → PVE-1001-B")
    expect(latest).to_contain_text("has modem: no → yes")
    expect(page.get_by_test_id("submissions").locator("li")).to_have_count(2)
    expect(page.get_by_test_id("hardware")).to_contain_text("i5-1135G7")


def test_an_organization_member_cannot_see_another_organizations_device(member_page, orgs):
    page = member_page
    own = DeviceFactory(organization=orgs["own"], name="BLUE-1")
    other = DeviceFactory(organization=orgs["other"], name="RED-1")
    page.goto("/devices/")
    expect(page.locator(f'tr[data-device="{own.pk}"]')).to_be_visible()
    expect(page.locator(f'tr[data-device="{other.pk}"]')).to_have_count(0)
    response = page.goto(f"/devices/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    response = page.goto("/submissions/")
    assert response.status == 403
    assert page.external_requests == []


def test_main_pages_fit_a_laptop_screen_without_sideways_scrolling(staff_page):
    from tests.inventory_data import build_showcase

    page = staff_page
    fleet = build_showcase()
    page.set_viewport_size({"width": 1280, "height": 800})
    paths = ("/", "/devices/", "/quick-add/", f"/devices/{fleet['twice']}/", "/submissions/")
    for path in (*paths, "/serials/"):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
