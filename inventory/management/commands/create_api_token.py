"""Creates an admin API token for a user and shows it once (only its hash is stored)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.auth import api_token_create


class Command(BaseCommand):
    help = "Create an admin API token (Authorization: Bearer <token>) for USERNAME."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        token = api_token_create(user=user, name=name)
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(token)
