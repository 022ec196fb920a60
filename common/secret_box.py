"""Secrets stored in the database, encrypted with the Fernet keys of TLSPOSTURE_SECRET_KEYS.

Newest key first; older keys still decrypt, and `rotate()` re-encrypts with the newest
(`manage.py rotate_secrets`). Checker passwords and digest webhook URLs use it; what is
stored is never shown again.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class Undecryptable(Exception):
    """No configured key decrypts the stored value (its key was removed)."""


def _keys() -> MultiFernet:
    keys = settings.TLSPOSTURE.get("SECRET_KEYS") or []
    if not keys:
        raise ImproperlyConfigured(
            "TLSPOSTURE_SECRET_KEYS is not set: stored secrets (checker passwords, digest "
            "webhook URLs) need a Fernet key (generate one with `python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "TLSPOSTURE_SECRET_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes)"
        ) from None


def encrypt(text: str) -> str:
    return _keys().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable() from None


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key."""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken:
        raise Undecryptable() from None
