"""Organizations, specs and requests saved by a person leave an audit row: who, when, what."""

import pytest

from inventory.models import AuditEntry
from inventory.services.catalog import organization_save, request_save, spec_save
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_organization_create_and_edit_are_audited_with_the_changes(staff_user):
    org = organization_save(name="Acme", actor=staff_user)
    organization_save(pk=org.pk, name="Acme Corp", slug="acme", actor=staff_user)
    created, updated = AuditEntry.objects.filter(object_type="organization").order_by("id")
    assert (created.action, created.actor) == ("created", staff_user)
    assert created.object_id == str(org.pk)
    assert created.changes["name"] == [None, "Acme"]
    assert updated.action == "updated"
    assert updated.changes == {"name": ["Acme", "Acme Corp"]}


def test_saving_without_a_change_writes_no_audit_row(staff_user):
    org = organization_save(name="Acme", actor=staff_user)
    organization_save(pk=org.pk, name="Acme", slug=org.slug, actor=staff_user)
    assert AuditEntry.objects.filter(action="updated").count() == 0


def test_spec_edit_records_pattern_changes(staff_user):
    spec = spec_save(name="NUC", name_patterns=["*NUC11*"], actor=staff_user)
    spec_save(pk=spec.pk, name="NUC", name_patterns="*NUC11*\n*NUC12*", actor=staff_user)
    updated = AuditEntry.objects.get(object_type="spec", action="updated")
    assert updated.changes == {"name_patterns": [["*NUC11*"], ["*NUC11*", "*NUC12*"]]}


def test_request_edit_records_status_and_targets(staff_user):
    org = OrganizationFactory()
    req = request_save(organization=org, target_macs=["02:aa:00:00:00:01"], actor=staff_user)
    request_save(
        pk=req.pk,
        organization=org,
        target_macs="02-AA-00-00-00-01\n02aa.0000.0002",
        status="cancelled",
        actor=staff_user,
    )
    updated = AuditEntry.objects.get(object_type="request", action="updated")
    assert updated.changes == {
        "status": ["pending", "cancelled"],
        "target_macs": [["02:aa:00:00:00:01"], ["02:aa:00:00:00:01", "02:aa:00:00:00:02"]],
    }
    assert updated.actor == staff_user


def test_an_anonymous_save_is_audited_without_actor():
    organization_save(name="Scripted")
    assert AuditEntry.objects.get().actor is None
