"""Schemathesis against /api/openapi.json: every operation, with and without credentials.

The document is generated, bodies included, from the schemas that validate them
(inventory/schemas.py), so the bodies generated here are the ones the contract describes.

No answer is ever a 500, and every answer (status, content type, body) is one the schema
documents. The number of examples per operation is bounded (FUZZ_EXAMPLES, default 25) so that
`make test` stays short on a 2-core machine; raise it locally for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from arrow.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.usefixtures("real_wsgi")]


@pytest.fixture
def credentials(staff_user, service_key, demo):
    """Headers of a device (service key) and of a staff script (Bearer token) at once."""
    from inventory.auth import api_token_create

    token = api_token_create(user=staff_user, name="fuzz")
    return {"X-Service-Api-Key": service_key, "Authorization": f"Bearer {token}"}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible, CI is stable
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@FUZZ
def test_every_operation_with_credentials_answers_as_documented(case, credentials):
    case.call_and_validate(headers=credentials, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_every_operation_without_credentials_answers_as_documented(case, db):
    for name in ("X-Service-Api-Key", "Authorization"):
        (case.headers or {}).pop(name, None)
    response = case.call_and_validate(checks=CHECKS)
    # 404/405: a generated path parameter (an empty id, say) routed the call to another path.
    # 400 invalid_value: a NUL or lone surrogate in the query string, refused before anything
    # else runs (arrow/middleware.py), credentials or not.
    if response.status_code == 400:
        assert response.json()["code"] == "invalid_value", response.text[:300]
        return
    assert response.status_code in (401, 404, 405), response.text[:300]


# --- the admin API with a staff token and with an organization member's token ---------------------

admin_schema = schema.include(tag="admin")
# Fewer examples per operation than above: the admin operations run twice more (staff, member).
ADMIN_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 2, 5))


@pytest.fixture
def other_orgs_devices(db):
    """Another organization's devices, with ids any leak would show."""
    from tests.factories import DeviceMacFactory, OrganizationFactory

    theirs = OrganizationFactory(name="Other Org")
    return [
        DeviceMacFactory(device__organization=theirs, device__name=f"theirs-{i}").device.pk
        for i in range(3)
    ]


@pytest.fixture
def member_token(django_user_model, demo, other_orgs_devices):
    """A member of Demo Org (the demo's request and spec) with an admin API token."""
    from inventory.auth import api_token_create
    from inventory.models import OrganizationMembership
    from tests.factories import DeviceMacFactory

    user = django_user_model.objects.create_user("fuzz-member", password="pw-fuzz-member")
    OrganizationMembership.objects.create(user=user, organization=demo["org"])
    DeviceMacFactory(device__organization=demo["org"], device__name="ours")
    return api_token_create(user=user, name="fuzz")


def no_other_organizations_device_ids(ids):
    def check(ctx, response, case):
        text = response.text or ""
        leaked = [device_id for device_id in ids if device_id in text]
        assert not leaked, f"the answer names another organization's devices: {leaked}"

    return check


@admin_schema.parametrize()
@ADMIN_FUZZ
def test_the_admin_api_with_a_staff_token_answers_as_documented(case, staff_user, demo):
    from inventory.auth import api_token_create

    token = api_token_create(user=staff_user, name="fuzz-staff")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@admin_schema.parametrize()
@ADMIN_FUZZ
def test_the_admin_api_with_a_members_token_never_shows_another_organization(
    case, member_token, other_orgs_devices
):
    leak = no_other_organizations_device_ids(other_orgs_devices)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {member_token}"}, checks=[*CHECKS, leak]
    )
