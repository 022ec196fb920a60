"""Digest periods: what "once per day / once per week" means for one subscription.

A daily digest's period is the local calendar date in the subscription's time zone
(`2026-11-23`); a weekly digest's period is the ISO week of that local date (`2026-W48`).
A subscription is due while its current period has no send-log row that is sent, empty, or
claimed by a sender that is still alive (see services.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

DAILY = "daily"
WEEKLY = "weekly"

_LENGTH = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


def period_key(cadence: str, time_zone: str, now: datetime) -> str:
    local_date = now.astimezone(ZoneInfo(time_zone)).date()
    if cadence == WEEKLY:
        year, week, _ = local_date.isocalendar()
        return f"{year}-W{week:02d}"
    return local_date.isoformat()


def changes_since(previous_digest_at: datetime | None, cadence: str, now: datetime) -> datetime:
    """Start of the window of posture changes: the previous digest, else one period back.

    Without the fallback a first digest would replay the whole history of findings.
    """
    return previous_digest_at or now - _LENGTH[cadence]
