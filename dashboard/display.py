"""Words and small HTML pieces for grades, states and times: colour is never the only
signal, and every time is a <time> element in UTC with its distance in words."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from common.timeutil import iso_z, parse_iso
from posture.grades import NO_EVIDENCE

GRADE_WORDS = {
    "A+": "exemplary",
    "A": "good",
    "B": "fair",
    "C": "weak",
    "D": "poor",
    "F": "failing",
    NO_EVIDENCE: "no evidence",
}
CHECK_STATUS_WORDS = {
    "ok": "checked",
    "unreachable": "unreachable",
    "tls-failed": "TLS failed",
    "auth-failed": "login failed",
    "never": "never checked",
}
LEGACY_TLS = ("SSLv3", "TLSv1.0", "TLSv1.1")


def grade_label(grade: str | None) -> str:
    grade = grade or NO_EVIDENCE
    return f"{grade} — {GRADE_WORDS.get(grade, 'unknown grade')}"


def grade_css(grade: str | None) -> str:
    """`grade-a-plus`, `grade-b`, … `grade-unknown`."""
    grade = grade or NO_EVIDENCE
    if grade == NO_EVIDENCE:
        return "grade-unknown"
    return "grade-" + grade.lower().replace("+", "-plus")


def grade_badge(grade: str | None) -> SafeString:
    return format_html('<span class="grade {}">{}</span>', grade_css(grade), grade_label(grade))


def enforcement_word(enforced: bool | None) -> str:
    return {True: "enforced", False: "not enforced"}.get(enforced, "unknown")


def check_status_word(status: str | None) -> str:
    return CHECK_STATUS_WORDS.get(status or "never", status)


def as_datetime(value) -> datetime | None:
    """A report value (ISO string) or a datetime, as an aware datetime."""
    if isinstance(value, datetime):
        return value
    return parse_iso(value)


def distance(moment: datetime) -> str:
    seconds = (moment - timezone.now()).total_seconds()
    days = int(abs(seconds) // 86400)
    if days == 0:
        hours = int(abs(seconds) // 3600)
        span = f"{hours} hour{'s' if hours != 1 else ''}" if hours else "less than an hour"
    else:
        span = f"{days} day{'s' if days != 1 else ''}"
    return f"in {span}" if seconds >= 0 else f"{span} ago"


def when(value, empty: str = "—", short: bool = False) -> SafeString | str:
    """A `<time>` with the UTC date and time (just the date when `short`), and how far away
    it is in words as its title."""
    moment = as_datetime(value)
    if moment is None:
        return empty
    utc = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        iso_z(moment),
        f"{utc:%Y-%m-%d %H:%M} UTC, {distance(moment)}",
        f"{utc:%Y-%m-%d}" if short else f"{utc:%Y-%m-%d %H:%M} UTC",
    )


def expiry(value, empty: str = "unknown") -> SafeString | str:
    """An expiry date with the days left in words: "2027-05-24 (in 183 days)"."""
    moment = as_datetime(value)
    if moment is None:
        return empty
    return format_html(
        '<time datetime="{}">{}</time><span class="muted"> ({})</span>',
        iso_z(moment),
        f"{moment.astimezone(UTC):%Y-%m-%d}",
        distance(moment),
    )


def breakable(text) -> SafeString:
    """A host name that may wrap after each dot instead of in the middle of a label."""
    return format_html_join(mark_safe(".<wbr>"), "{}", ((part,) for part in str(text).split(".")))


def pretty_json(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
