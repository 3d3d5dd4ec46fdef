"""Browser fixtures: one Debian chromium per session (Playwright's sync API, no browser download),
a fresh context and page per test, and logged-in pages for staff and organization users.

They build on each other: browser -> page -> staff_page / member_page. Every test runs against
pytest-django's live_server, so these tests use transactional_db (the server thread must see
the rows the test wrote).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("ARROW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STAFF_PASSWORD = "staff-pw-e2e"
MEMBER_PASSWORD = "member-pw-e2e"


@pytest.fixture(scope="package", autouse=True)
def _orm_beside_playwrights_loop():
    """Playwright's sync API runs an asyncio loop in this thread; Django would then refuse the ORM
    calls the tests make to set up data. Nothing here is concurrent with that loop. Only for the
    browser tests: the variable must not reach later tests (`check --deploy` refuses it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser():
    """Debian's chromium driven by Playwright; a missing browser fails the run, never skips."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's package 'chromium' "
            "(apt-get install -y chromium); Playwright's own browser download is not used",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser context (no cookies) on a laptop-sized viewport, with the live server as
    base URL. Requests that leave 127.0.0.1 are recorded in page.external_requests."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.external_requests = []
    host = live_server.url.split("//", 1)[1]

    def record(request):
        url = request.url
        if not (url.startswith(("data:", "about:", "blob:")) or f"//{host}" in url):
            page.external_requests.append(url)

    page.on("request", record)
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def staff_user(django_user_model, transactional_db):
    return django_user_model.objects.create_user("operator", password=STAFF_PASSWORD, is_staff=True)


@pytest.fixture
def staff_page(page, staff_user):
    """A page logged in as a staff operator (sees everything)."""
    login(page, "operator", STAFF_PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


@pytest.fixture
def orgs(transactional_db):
    """Two organizations: the member's own and another one."""
    from tests.factories import OrganizationFactory

    return {
        "own": OrganizationFactory(name="Blue Team"),
        "other": OrganizationFactory(name="Red Team"),
    }


@pytest.fixture
def member_page(page, django_user_model, orgs):
    """A page logged in as a non-staff member of the 'own' organization only."""
    from inventory.models import OrganizationMembership

    user = django_user_model.objects.create_user("member", password=MEMBER_PASSWORD)
    OrganizationMembership.objects.create(user=user, organization=orgs["own"])
    login(page, "member", MEMBER_PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page
