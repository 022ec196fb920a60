"""The only writer of API tokens."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from api.models import ApiToken
from api.tokens import PREFIX_LENGTH, new_token, token_hash


def create_token(user, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`: the row, and the token itself — shown once, never stored."""
    for _ in range(5):  # a prefix collision (48 random bits) is all but impossible
        token = new_token()
        try:
            with transaction.atomic():
                row = ApiToken.objects.create(
                    user=user,
                    name=name.strip(),
                    prefix=token[:PREFIX_LENGTH],
                    key_hash=token_hash(token),
                )
            return row, token
        except IntegrityError:
            continue
    raise RuntimeError("could not find an unused token prefix")


def revoke_token(row: ApiToken) -> None:
    """A revoked token is gone: the next request with it gets 401."""
    row.delete()
