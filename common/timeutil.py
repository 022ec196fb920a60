"""Time helpers that keep every stored time timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso(raw: object) -> datetime | None:
    """Parse an ISO-8601 timestamp (with `Z` or an offset) into aware UTC; None if unusable."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        value = raw
    else:
        text = str(raw).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """Render an aware time as `2026-11-23T08:00:00Z` (the report schema's format)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
