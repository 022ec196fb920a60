"""Signed one-click unsubscribe tokens: one subscription, one recipient address.

The token names the address by a hash, so the link leaks no address into web server
logs. It does not expire: mail clients may offer the link months later, and all it can
do is take that one address off that one subscription.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core import signing

_SALT = "notifications.unsubscribe"


def address_key(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:24]


@dataclass(frozen=True)
class UnsubscribeTarget:
    subscription_id: int
    address_key: str


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def make_unsubscribe_token(subscription_id: int, address: str) -> str:
    return _signer().sign_object({"s": subscription_id, "a": address_key(address)})


def read_unsubscribe_token(token: str) -> UnsubscribeTarget | None:
    """The target, or None for a token that was not made here or was altered."""
    try:
        payload = _signer().unsign_object(token)
        return UnsubscribeTarget(int(payload["s"]), str(payload["a"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def find_recipient(addresses: list[str], key: str) -> str | None:
    return next((a for a in addresses if address_key(a) == key), None)
