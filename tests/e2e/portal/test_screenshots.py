"""Walks the main pages over a believable fleet and saves a screenshot of each.

Runs in every `make test` (into a temporary directory, as a smoke test of each page in the
browser); `make screenshots` points ARROW_SCREENSHOTS_DIR at docs/screenshots to refresh the
pictures the documentation shows.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.portal.conftest import STAFF_PASSWORD, login
from tests.inventory_data import build_showcase


@pytest.fixture
def shots(tmp_path) -> Path:
    target = Path(os.environ.get("ARROW_SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_screenshots_of_the_main_pages(page, django_user_model, shots):
    fleet = build_showcase()
    operator = fleet["operator"]
    operator.is_staff = True
    operator.set_password(STAFF_PASSWORD)
    operator.save()
    login(page, "operator", STAFF_PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{name}.png", full_page=True)

    expect(page.get_by_test_id("attention")).to_contain_text("Conflict")
    shot("dashboard")
    page.set_viewport_size({"width": 1920, "height": 1080})
    shot("dashboard-large-screen")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto("/devices/?sort=name")
    expect(page.locator("tbody tr[data-device]")).to_have_count(14)
    page.locator("tbody tr[data-device] input[name=device_ids]").nth(1).check()
    page.locator("tbody tr[data-device] input[name=device_ids]").nth(2).check()
    shot("device-list")

    page.goto(f"/devices/{fleet['twice']}/")
    expect(page.get_by_test_id("history")).to_contain_text("PVE-1201-LAB")
    page.get_by_test_id("submissions").locator("summary").first.click()
    shot("device-detail")

    page.goto(f"/devices/{fleet['failing']}/")
    expect(page.get_by_test_id("spec-mismatch")).to_contain_text("expected 2 disks, found 1")
    shot("spec-mismatch")

    page.goto("/quick-add/")
    form = page.get_by_test_id("quick-add-bulk")
    form.get_by_label("Target organization").select_option(label="Blue Team")
    form.get_by_label("MAC addresses").fill(
        "00-E0-4C-71-AA-04\n00-E0-4C-71-AA-01\n00-E0-4C-71-AA\n"
    )
    form.get_by_role("button", name="Add all").click()
    expect(page.get_by_test_id("bulk-results").locator("tbody tr")).to_have_count(3)
    shot("quick-add")

    page.goto("/submissions/")
    expect(page.locator("tbody tr")).to_have_count(2)
    shot("journal")

    page.goto(f"/submissions/{fleet['conflict'].pk}/")
    expect(page.get_by_test_id("resolve-form")).to_be_visible()
    shot("journal-conflict")

    page.goto("/specs/")
    page.get_by_role("link", name="Intel NUC 11 Pro").click()
    page.get_by_label("Reported name").fill("NUC11TNHi5")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("match-verdict")).to_contain_text("matches this spec")
    shot("spec-check")

    for name in ("dashboard", "device-list", "device-detail", "quick-add", "journal"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
    assert page.external_requests == []
