"""Bearer tokens: minting, the Authorization header, and finding a token's user.

One parser for both bearer schemes here: the per-user API tokens and /metrics's single
TLSPOSTURE_METRICS_TOKEN. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.crypto import constant_time_compare

from api.models import ApiToken

TOKEN_PREFIX = "tlsp_"  # noqa: S105 - the visible start of every token, not a secret
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# last_used_at is written at most this often per token: a busy script does not turn every
# read into a write (SQLite takes its one write lock for each).
LAST_USED_RESOLUTION = timedelta(minutes=5)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request) -> str | None:
    """The credentials of `Authorization: Bearer …`, or None when there is no such header."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def matches(given: str | None, expected: str) -> bool:
    return bool(given) and bool(expected) and constant_time_compare(given, expected)


def token_user(token: str):
    """The active user whose token this is, or None. Notes the token's use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) <= PREFIX_LENGTH:
        return None
    row = ApiToken.objects.select_related("user").filter(prefix=token[:PREFIX_LENGTH]).first()
    if row is None or not matches(token_hash(token), row.key_hash) or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
