"""Words for the letters and states the pages show: colour is never the only signal."""

from __future__ import annotations

from posture.catalogue import GRADE_ORDER, NO_EVIDENCE

GRADE_WORDS = {
    "A+": "exemplary",
    "A": "good",
    "B": "fair",
    "C": "weak",
    "D": "poor",
    "F": "failing",
    NO_EVIDENCE: "no evidence",
}
GRADES = (*GRADE_ORDER, NO_EVIDENCE)

CHECK_STATUS_WORDS = {
    "ok": "checked",
    "unreachable": "unreachable",
    "tls-failed": "TLS failed",
    "auth-failed": "login failed",
    "never": "never checked",
}


def grade_label(grade: str | None) -> str:
    grade = grade or NO_EVIDENCE
    return f"{grade} — {GRADE_WORDS.get(grade, 'unknown grade')}"


def grade_css(grade: str | None) -> str:
    """`grade-a-plus`, `grade-b`, … `grade-unknown`."""
    grade = grade or NO_EVIDENCE
    if grade == NO_EVIDENCE:
        return "grade-unknown"
    return "grade-" + grade.lower().replace("+", "-plus")


def enforcement_word(enforced: bool | None) -> str:
    return {True: "enforced", False: "not enforced"}.get(enforced, "unknown")
