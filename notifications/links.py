"""Absolute links from e-mails back to the site, built in one place.

The dashboard's instance, certificate and findings pages do not exist yet: until their URL
names resolve, the paths below stand in for them, and nothing else in notifications
spells a dashboard path.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _dashboard(url_name: str, fallback: str, *args) -> str:
    try:
        return absolute(reverse(url_name, args=args))
    except NoReverseMatch:
        return absolute(fallback)


def instance_url(instance_id: int) -> str:
    return _dashboard("dashboard:instance", f"/instances/{instance_id}/", instance_id)


def certificates_url() -> str:
    return _dashboard("dashboard:certificates", "/certificates/")


def findings_url() -> str:
    return _dashboard("dashboard:findings", "/findings/")


def subscriptions_url() -> str:
    return absolute(reverse("notifications:subscriptions"))


def unsubscribe_url(token: str) -> str:
    return absolute(reverse("notifications:unsubscribe", args=[token]))
