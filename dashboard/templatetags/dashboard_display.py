"""Template filters for grades, severities, states and times."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.timeutil import iso_z, parse_iso
from dashboard import display

register = template.Library()


@register.filter
def grade_label(grade):
    return display.grade_label(grade)


@register.filter
def grade_css(grade):
    return display.grade_css(grade)


@register.filter
def enforcement(enforced):
    return display.enforcement_word(enforced)


@register.filter
def check_status(status):
    return display.CHECK_STATUS_WORDS.get(status or "never", status)


@register.filter
def cells(row, columns):
    """(column, value) pairs of one table row."""
    return row.cells(columns)


@register.filter
def pretty_json(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.filter
def as_datetime(value):
    """A report value (ISO string) or a datetime, as an aware datetime."""
    if isinstance(value, datetime):
        return value
    return parse_iso(value)


@register.simple_tag
def when(value, empty="—", short=False):
    """A `<time>` with the UTC date and time (just the date when `short`), and how far away
    it is in words as its title."""
    moment = as_datetime(value)
    if moment is None:
        return empty
    utc = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        iso_z(moment),
        f"{utc:%Y-%m-%d %H:%M} UTC, {_distance(moment)}",
        f"{utc:%Y-%m-%d}" if short else f"{utc:%Y-%m-%d %H:%M} UTC",
    )


@register.filter
def breakable(text):
    """A host name that may wrap after each dot instead of in the middle of a label."""
    return format_html_join(mark_safe(".<wbr>"), "{}", ((part,) for part in str(text).split(".")))


@register.simple_tag
def expiry(value, empty="unknown"):
    """An expiry date with the days left in words: "2027-05-24 (in 183 days)"."""
    moment = as_datetime(value)
    if moment is None:
        return empty
    return format_html(
        '<time datetime="{}">{}</time><span class="muted"> ({})</span>',
        iso_z(moment),
        moment.astimezone(UTC).strftime("%Y-%m-%d"),
        _distance(moment),
    )


def _distance(moment: datetime) -> str:
    seconds = (moment - timezone.now()).total_seconds()
    days = int(abs(seconds) // 86400)
    if days == 0:
        hours = int(abs(seconds) // 3600)
        span = f"{hours} hour{'s' if hours != 1 else ''}" if hours else "less than an hour"
    else:
        span = f"{days} day{'s' if days != 1 else ''}"
    return f"in {span}" if seconds >= 0 else f"{span} ago"
