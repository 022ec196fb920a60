"""What one rule says about one endpoint: raised (with evidence), clear (None) or unknown.

Unknown is never "ok": a rule that cannot decide raises nothing and resolves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.timeutil import iso_z


@dataclass(frozen=True)
class Raised:
    evidence: dict = field(default_factory=dict)
    severity: str | None = None  # only for entries whose severity depends on the facts


@dataclass(frozen=True)
class Unknown:
    reason: str


Outcome = Raised | Unknown | None  # None: nothing wrong, or the rule does not apply


def observed(effective, **values) -> dict:
    """Evidence read from the latest observation, with its source and time."""
    return {**values, "source": "live-wire", "at": iso_z(effective.checked_at)}
