"""Makes a user a member (or an admin) of an organization: members see and change its devices
and requests, admins also manage its webhook subscriptions (inventory/authz.py)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.errors import InventoryError
from inventory.models import OrganizationMembership
from inventory.services.devices import organization_by_name


class Command(BaseCommand):
    help = "Add USERNAME to ORGANIZATION (name or slug); --admin makes them its admin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("organization")
        parser.add_argument("--admin", action="store_true", help="also manages its webhooks")

    def handle(self, *args, username, organization, admin, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            org = organization_by_name(organization)
        except InventoryError as exc:
            raise CommandError(exc.message) from None
        OrganizationMembership.objects.update_or_create(
            user=user, organization=org, defaults={"is_admin": admin}
        )
        role = "admin" if admin else "member"
        self.stdout.write(f"{username} is now {role} of {org.name}")
