"""Whom a digest may go to: one rule for the pages, the admin and the sender.

A digest leaves from the organisation's own sender and carries fleet data, so it is not a
channel to arbitrary addresses: a subscription owned by a non-staff user may address only
its owner's own e-mail address, or addresses in the domains listed in
TLSPOSTURE_DIGEST_ALLOWED_DOMAINS. Subscriptions owned by staff may address anyone (staff
also manage every subscription in the admin). The sender checks again, so a subscription
stored before the rule cannot reach a stranger either.
"""

from __future__ import annotations

from django.conf import settings


def allowed_domains() -> list[str]:
    return [d.lower().lstrip("@") for d in settings.TLSPOSTURE.get("DIGEST_ALLOWED_DOMAINS", [])]


def may_address(owner, address: str) -> bool:
    if owner.is_staff:
        return True
    address = address.strip().lower()
    own = (owner.email or "").strip().lower()
    if own and address == own:
        return True
    return address.rpartition("@")[2] in allowed_domains()


def refused_addresses(owner, addresses: list[str]) -> list[str]:
    return [a for a in addresses if not may_address(owner, a)]


def what_owner_may_address(owner) -> str:
    """The rule in words, for the one who hits it."""
    choices = []
    if owner.email:
        choices.append(f"your own address ({owner.email})")
    domains = allowed_domains()
    if domains:
        choices.append("addresses in " + ", ".join(domains))
    if not choices:
        return (
            "Digests go only to your own e-mail address (none is set on your account) or to "
            "domains in TLSPOSTURE_DIGEST_ALLOWED_DOMAINS (none is set): ask staff."
        )
    return "Digests go only to " + " or ".join(choices) + "."
