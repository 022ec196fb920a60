"""`manage.py rotate_checker_secrets`: re-encrypt stored checker passwords with the newest key
(`rotate_secrets` does this and re-encrypts digest webhook URLs too).

Rotation: put the new key first in TLSPOSTURE_SECRET_KEYS (keep the old ones after it),
run this command, then drop the old keys.
"""

from django.core.management.base import BaseCommand, CommandError

from checker.password_rotation import rotate_stored_passwords


class Command(BaseCommand):
    help = "Re-encrypt every stored checker password with the first key of TLSPOSTURE_SECRET_KEYS."

    def handle(self, *args, **options):
        rotated, undecryptable = rotate_stored_passwords()
        self.stdout.write(f"re-encrypted {len(rotated)} stored password(s)")
        if undecryptable:
            raise CommandError(
                "no configured key decrypts the stored password of: "
                f"{', '.join(undecryptable)} (set those passwords again in the admin)"
            )
