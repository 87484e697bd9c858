"""Remove a staff user's two-factor devices (a lost phone): they log in with the password
alone again and, when STAFF_2FA_REQUIRED is on, set up a new authenticator right away."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from backoffice.two_factor import staff_2fa_remove


class Command(BaseCommand):
    help = "Remove a user's two-factor authentication devices (authenticator and backup codes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        removed = staff_2fa_remove(user=user)
        if not removed.authenticators and not removed.backup_codes:
            self.stdout.write(f"{username} had no two-factor devices; nothing removed.")
            return
        self.stdout.write(
            f"{username}: removed {removed.authenticators} authenticator app(s) and "
            f"{removed.backup_codes} unused backup code(s)."
        )
        then = (
            "set up a new authenticator at the next login (STAFF_2FA_REQUIRED is on)."
            if settings.STAFF_2FA_REQUIRED
            else "log in with the password alone until they turn it on again."
        )
        self.stdout.write(f"They {then}")
