"""Grades and severities: their order, and the expiry windows that set a severity.

A grade is a letter (GRADE_ORDER, best first) or `?`: no evidence at all
(docs/design.md "Finding catalogue"). Pure.
"""

from __future__ import annotations

GRADE_ORDER = ("A+", "A", "B", "C", "D", "F")  # the letter grades, best first
NO_EVIDENCE = "?"
# Every grade an endpoint can show: the letters, then `?`.
EVERY_GRADE = (*GRADE_ORDER, NO_EVIDENCE)
SEVERITIES = ("critical", "high", "medium", "low", "info")  # worst first


def severity_for_days(days_left: float, thresholds: tuple[int, int, int]) -> str | None:
    """90/30/7 → low/medium/high; None when further away than the widest threshold."""
    widest, middle, narrowest = thresholds
    if days_left <= narrowest:
        return "high"
    if days_left <= middle:
        return "medium"
    if days_left <= widest:
        return "low"
    return None


def grade_rank(grade: str) -> int:
    """Lower is better; `?` ranks below every grade (it passes no minimum)."""
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def worst_grade(grades) -> str:
    return max(grades, key=grade_rank, default="A")


def severity_rank(severity: str) -> int:
    """Lower is worse."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
