"""Signed one-click unsubscribe tokens: one subscription, one recipient, one recipient list.

The token names the address by an HMAC under the secret key, so the link spells no address
(web server logs, link scanners) and nobody can compute the key of a guessed address. It
carries the subscription's `recipients_version`, which changes whenever the recipients
change: a link made before its address was removed and added back has expired and changes
nothing (the model remembers which version added each address). Other recipients' changes
leave a link alone, and it does not expire with time: mail clients may offer it months
later.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "notifications.unsubscribe"
_ADDRESS_SALT = "notifications.unsubscribe.address"


def _address_key(address: str, secret: str) -> str:
    normalised = address.strip().lower()
    return salted_hmac(_ADDRESS_SALT, normalised, secret=secret, algorithm="sha256").hexdigest()


def address_key(address: str) -> str:
    return _address_key(address, settings.SECRET_KEY)


@dataclass(frozen=True)
class UnsubscribeTarget:
    subscription_id: int
    address_key: str
    version: int | None  # None: a link made before links carried one (expired)


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT)


def make_unsubscribe_token(subscription, address: str) -> str:
    return _signer().sign_object(
        {"s": subscription.pk, "v": subscription.recipients_version, "a": address_key(address)}
    )


def read_unsubscribe_token(token: str) -> UnsubscribeTarget | None:
    """The target, or None for a token that was not made here or was altered."""
    try:
        payload = _signer().unsign_object(token)
        version = payload.get("v")
        return UnsubscribeTarget(
            int(payload["s"]), str(payload["a"]), version if isinstance(version, int) else None
        )
    except (signing.BadSignature, AttributeError, KeyError, TypeError, ValueError):
        return None


def find_recipient(addresses: list[str], key: str) -> str | None:
    """The address whose key is `key` (under the current or a fallback secret key)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for address in addresses:
        if any(constant_time_compare(_address_key(address, s), key) for s in secrets):
            return address
    return None
