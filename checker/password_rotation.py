"""Re-encrypt stored checker passwords with the newest key of TLSPOSTURE_SECRET_KEYS
(`manage.py rotate_checker_secrets`), in one transaction."""

from __future__ import annotations

from django.db import transaction

from checker.credentials import CredentialError, rotate_token
from checker.models import CheckerProfile


def rotate_stored_passwords() -> tuple[list[str], list[str]]:
    """Re-encrypt every stored checker password with the newest key.

    Returns (rotated profile names, profile names whose password no key decrypts).
    """
    rotated, undecryptable = [], []
    with transaction.atomic():
        for profile in CheckerProfile.objects.exclude(password_encrypted="").select_for_update():
            try:
                profile.password_encrypted = rotate_token(profile.password_encrypted)
            except CredentialError:
                undecryptable.append(profile.name)
                continue
            profile.save(update_fields=["password_encrypted"])
            rotated.append(profile.name)
    return rotated, undecryptable
