"""Periods are local dates or ISO weeks in the subscription's time zone."""

from datetime import UTC, datetime, timedelta

from notifications.periods import changes_since, period_key

LATE_SUNDAY_UTC = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)


def test_a_daily_period_is_the_local_date():
    assert period_key("daily", "UTC", LATE_SUNDAY_UTC) == "2026-11-22"
    assert period_key("daily", "Europe/Berlin", LATE_SUNDAY_UTC) == "2026-11-23"
    assert period_key("daily", "America/New_York", LATE_SUNDAY_UTC) == "2026-11-22"


def test_a_weekly_period_is_the_iso_week_of_the_local_date():
    assert period_key("weekly", "UTC", LATE_SUNDAY_UTC) == "2026-W47"
    assert period_key("weekly", "Asia/Shanghai", LATE_SUNDAY_UTC) == "2026-W48"
    # 1 January 2027 is a Friday of the 53rd ISO week of 2026.
    assert period_key("weekly", "UTC", datetime(2027, 1, 1, 12, tzinfo=UTC)) == "2026-W53"


def test_changes_since_the_previous_digest_else_one_period_back():
    now = LATE_SUNDAY_UTC
    previous = now - timedelta(days=3)
    assert changes_since(previous, "daily", now) == previous
    assert changes_since(None, "daily", now) == now - timedelta(days=1)
    assert changes_since(None, "weekly", now) == now - timedelta(days=7)
