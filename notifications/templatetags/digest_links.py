"""Per-row links in digest e-mails; the paths themselves live in notifications/links.py."""

from django import template

from notifications import links

register = template.Library()


@register.simple_tag
def instance_url(instance_id: int) -> str:
    return links.instance_url(instance_id)


@register.filter
def beyond(items, limit) -> int:
    """How many of `items` a list cut at `limit` leaves out."""
    return max(0, len(items) - int(limit))
