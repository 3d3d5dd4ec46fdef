"""Who may do what to which object: the one home of the authorization rules.

In the spirit of NetBox's ``restrict(user, action)``: a service asks `restrict(queryset, actor,
action)` for the rows *actor* may act on, or `require_*` for one decision, and never decides
itself. The portal, the admin API and the services all go through here; docs/security.md holds
the same rules as a table (actor x object x action).

Actors:
- a staff user (or superuser): everything;
- an organization member (any other active user): the devices, requests and boot events of the
  organizations they belong to; specs to read; nothing else;
- an organization admin (a member whose membership says so): also that organization's webhook
  subscriptions and their deliveries;
- an anonymous or inactive user: nothing;
- None, the system itself: the service-key endpoints, the boot path and management commands.
  Every path a person drives passes that person. A device holding a per-boot token is scoped
  by `token_device_allows` instead (it proves one device, not an organization).
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Model, QuerySet

from inventory.errors import Forbidden, NotFound
from inventory.models import (
    BootEvent,
    Device,
    DeviceHistory,
    DeviceRequest,
    DeviceSpec,
    Organization,
    WebhookDelivery,
    WebhookSubscription,
)


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"  # create, edit, delete, resolve
    MANAGE = "manage"  # what an organization's admins do: its webhook subscriptions


VIEW, CHANGE, MANAGE = Action.VIEW, Action.CHANGE, Action.MANAGE

# Models an organization member may reach, and the path from a row to its organization.
MEMBER_OWNED: dict[type[Model], str] = {
    Device: "organization",
    DeviceRequest: "organization",
    BootEvent: "device__organization",
    DeviceHistory: "device__organization",
}
# Models an organization's admins see and change (other members: nothing); a row of no
# organization (a subscription to every organization's events) is staff-only.
ADMIN_OWNED: dict[type[Model], str] = {
    WebhookSubscription: "organization",
    WebhookDelivery: "subscription__organization",
}
# Models everyone signed in may read; only staff change them.
READ_ALL: frozenset[type[Model]] = frozenset({DeviceSpec})


def is_system(actor) -> bool:
    return actor is None


def is_staff(actor) -> bool:
    """The system, or an active staff user or superuser."""
    if is_system(actor):
        return True
    active = getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False)
    return bool(active and (actor.is_staff or actor.is_superuser))


def _is_member_user(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False))


def organizations(actor, action: Action = VIEW) -> QuerySet[Organization]:
    """The organizations whose objects *actor* may *action* (staff: all; anonymous: none)."""
    if is_staff(actor):
        return Organization.objects.all()
    if not _is_member_user(actor):
        return Organization.objects.none()
    if action is MANAGE:
        # One filter call: both conditions on the same membership row.
        return Organization.objects.filter(memberships__user=actor, memberships__is_admin=True)
    return Organization.objects.filter(memberships__user=actor)


def restrict(qs: QuerySet, actor, action: Action = VIEW) -> QuerySet:
    """*qs* limited to the rows *actor* may *action*. Unknown models are staff-only (closed)."""
    if is_staff(actor):
        return qs
    model = qs.model
    if model is Organization:
        return qs.filter(pk__in=organizations(actor)) if action is VIEW else qs.none()
    if model in READ_ALL:
        return qs if action is VIEW and _is_member_user(actor) else qs.none()
    if model in ADMIN_OWNED:
        return qs.filter(**{f"{ADMIN_OWNED[model]}__in": organizations(actor, MANAGE)})
    path = MEMBER_OWNED.get(model)
    if path is None or not _is_member_user(actor):
        return qs.none()
    return qs.filter(**{f"{path}__in": organizations(actor, action)})


def can(actor, action: Action, obj: Model) -> bool:
    """One object: may *actor* *action* it?"""
    return restrict(type(obj).objects.filter(pk=obj.pk), actor, action).exists()


def require_staff(actor, what: str) -> None:
    """403 for anyone but staff (catalog changes, the journal, the audit trail)."""
    if not is_staff(actor):
        raise Forbidden("forbidden", f"only staff may {what}")


def require_organization(
    actor, org: Organization | None, *, field: str = "organization", action: Action = CHANGE
):
    """*org* is one *actor* may *action* in; otherwise 404, as if it did not exist. An
    organization of None (a device of no organization, a subscription to all) is staff-only."""
    if is_staff(actor):
        return
    if org is None:
        raise Forbidden("forbidden", "only staff may act for no organization or for all")
    if not organizations(actor, action).filter(pk=org.pk).exists():
        raise NotFound("unknown_organization", f"no organization {org.name!r}", field=field)


def device_may_join(actor, device_id: str, org: Organization) -> bool:
    """May *actor* point something of *org* (a request, a quick add) at an existing device? Only
    when the device is theirs to see and belongs to no other organization."""
    device = Device.objects.filter(pk=device_id).only("pk", "organization_id").first()
    if device is None:
        return True
    if device.organization_id not in (None, org.pk):
        return False
    return is_staff(actor) or (device.organization_id is not None and can(actor, VIEW, device))


def visible_device_id(actor, device_id: str | None) -> str | None:
    """*device_id* when *actor* may see that device, else None (answers never name another
    organization's devices)."""
    if device_id and restrict(Device.objects.filter(pk=device_id), actor).exists():
        return device_id
    return None


def token_device_allows(bound_device_id: str | None, identified: set[str]) -> bool:
    """A per-boot token proves one device: the one holding its MAC (or a new one when no device
    holds it). A submission may touch that device only, whatever else it reports."""
    return identified <= ({bound_device_id} if bound_device_id else set())
