"""The fleet worklist: open findings, endpoint by endpoint, in the order to fix them.

Fix first what is worst: the finding's severity, then the endpoint's grade (F before C), then
the days until its server certificate or CA expires (sooner first), then how many endpoints
one change fixes (a finding fixed in a parameter group shared by N of the listed endpoints
that all have it: N). One query per page, whatever the fleet size; the ordering is the
database's (the count is a window function, so the fleet is read once).

The environment is the value of the tag named by TLSPOSTURE["ENVIRONMENT_TAG"] (`env`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Least

from posture.finding_report import finding_row
from posture.fix_plan import GROUP_WIDE_FINDINGS
from posture.grades import GRADE_ORDER, NO_EVIDENCE, SEVERITIES
from posture.models import Finding

FIX_FIRST_LIMIT = 10
# Grades worst first; `?` after F: nothing known is no reason to wait.
GRADES_WORST_FIRST = (*reversed(GRADE_ORDER), NO_EVIDENCE)
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def environment_tag() -> str:
    return settings.TLSPOSTURE.get("ENVIRONMENT_TAG", "") or ""


def environment_of(tags: dict | None) -> str:
    tag = environment_tag()
    return str((tags or {}).get(tag, "")) if tag else ""


def _rank(field: str, order: Iterable[str]) -> Case:
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(order)),
        default=Value(len(tuple(order))),
        output_field=IntegerField(),
    )


def _one_change_fixes() -> Case:
    """How many of the findings listed have this id on the endpoint's (custom) parameter
    group in its account and region: what one change to that group fixes. 1 where the fix
    is not a group change, or the group is a default one (each endpoint gets its own). A
    window count over the list: one pass, no query per row."""
    same_change = Window(
        Count("pk"),
        partition_by=[
            F("finding_id"),
            F("instance__account_id"),
            F("instance__region"),
            F("instance__parameter_group"),
        ],
    )
    return Case(
        When(
            Q(finding_id__in=GROUP_WIDE_FINDINGS)
            & ~Q(instance__parameter_group="")
            & ~Q(instance__parameter_group_is_default=True),
            then=same_change,
        ),
        default=Value(1),
        output_field=IntegerField(),
    )


def in_fix_first_order(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """These (open) findings with what a worklist row needs, in the order to fix them."""
    expires = Least(
        Coalesce("instance__posture__server_cert_not_after", Value(_NEVER)),
        Coalesce("instance__posture__ca_valid_till", Value(_NEVER)),
        output_field=DateTimeField(),
    )
    return (
        findings.select_related("instance__account", "instance__posture")
        .annotate(
            severity_rank=_rank("severity", SEVERITIES),
            grade_rank=_rank("instance__posture__grade", GRADES_WORST_FIRST),
            expires_first=expires,
            one_change_fixes=_one_change_fixes(),
        )
        .order_by(
            "severity_rank",
            "grade_rank",
            "expires_first",
            "-one_change_fixes",
            "instance__identifier",
            "instance_id",
            "finding_id",
        )
    )


def worklist_row(finding: Finding) -> dict:
    """A finding row (posture.finding_report) with the endpoint's grade, environment,
    nearest expiry and what one change fixes."""
    instance = finding.instance
    posture = getattr(instance, "posture", None)
    expires = getattr(finding, "expires_first", None)
    return {
        **finding_row(finding),
        "grade": posture.grade if posture else NO_EVIDENCE,
        "environment": environment_of(instance.tags),
        "expires": None if expires is None or expires >= _NEVER else expires,
        "one_change_fixes": getattr(finding, "one_change_fixes", 1),
    }


def fix_first(findings: QuerySet[Finding], limit: int = FIX_FIRST_LIMIT) -> list[dict]:
    """The first `limit` endpoints to fix, each with its most urgent finding and how many
    findings it has open in all (the overview's "fix first")."""
    rows: dict[int, dict] = {}
    # Endpoints have a few findings each: enough rows to find `limit` endpoints.
    for finding in in_fix_first_order(findings)[: limit * 20]:
        if finding.instance_id not in rows:
            posture = getattr(finding.instance, "posture", None)
            rows[finding.instance_id] = {
                "pk": finding.instance_id,
                **worklist_row(finding),
                "open": posture.open_findings if posture else 0,
            }
            if len(rows) == limit:
                break
    return list(rows.values())
