"""The demo's closing summary: every endpoint's grade from `posture_report --format json`,
next to the grade the world expects, and the count per grade."""

from __future__ import annotations

from collections import Counter

from demo.world import DATABASES, GRADES_SHOWN, expected_grades

GRADE_ORDER = ("A+", "A", "B", "C", "D", "F", "?")


def grades(report: dict) -> dict[tuple[str, str], str]:
    """(account, identifier) → grade, from the report's JSON."""
    return {(row["account"], row["identifier"]): row["grade"] for row in report["instances"]}


def count_line(report: dict) -> str:
    counts = Counter(grades(report).values())
    shown = [g for g in GRADE_ORDER if counts[g]]
    text = " · ".join(f"{grade}: {counts[grade]}" for grade in shown)
    missing = [g for g in GRADES_SHOWN if not counts[g]]
    if missing:
        text += f"   (missing: {', '.join(missing)})"
    return text


def table(report: dict) -> list[str]:
    actual = grades(report)
    shows = {(db.account.name, ep): db.shows for db in DATABASES for ep in db.endpoints}
    width = max(len(f"{a}/{i}") for a, i in actual) if actual else 0
    lines = []
    for key in sorted(actual, key=lambda k: (GRADE_ORDER.index(actual[k]), k)):
        expected = expected_grades().get(key)
        flag = "" if expected == actual[key] else f"  (expected {expected})"
        label = f"{key[0]}/{key[1]}"
        lines.append(f"{actual[key]:<2}  {label:<{width}}  {shows.get(key, '')}{flag}")
    return lines
