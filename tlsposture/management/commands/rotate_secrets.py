"""`manage.py rotate_secrets`: re-encrypt every stored secret with the newest key.

Rotation: put the new key first in TLSPOSTURE_SECRET_KEYS (keep the old ones after it), run
this command, then drop the old keys. Checker passwords and digest webhook URLs.
"""

from django.core.management.base import BaseCommand, CommandError

from checker.password_rotation import rotate_stored_passwords
from notifications.services import rotate_channel_urls


class Command(BaseCommand):
    help = "Re-encrypt stored checker passwords and digest webhook URLs with the newest key."

    def handle(self, *args, **options):
        passwords, bad_passwords = rotate_stored_passwords()
        urls, bad_urls = rotate_channel_urls()
        self.stdout.write(f"re-encrypted {len(passwords)} stored password(s)")
        self.stdout.write(f"re-encrypted {len(urls)} digest target URL(s)")
        problems = []
        if bad_passwords:
            problems.append(f"the stored password of {', '.join(bad_passwords)}")
        if bad_urls:
            problems.append(f"the target URL of the digest(s) {', '.join(bad_urls)}")
        if problems:
            raise CommandError(
                f"no configured key decrypts {' and '.join(problems)} (set them again)"
            )
