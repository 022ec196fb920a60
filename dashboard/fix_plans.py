"""The instance page's answer first: what caps the grade, the endpoint's fix plan with its
impact, and each finding's evidence as two or three plain facts.

The plan itself is posture's (posture/fix_plan.py); this module adds what only the fleet
knows — the other endpoints that share the parameter group the plan changes — and the
clients that would fail, from the client-connection evidence (posture/rules_clients.py).

Team scoping (README "Access"): the endpoints sharing the group are read through the
user's visible endpoints. A parameter group belongs to one account and teams are granted
whole accounts, so whoever sees this endpoint sees every endpoint that shares its group:
all of them are named, none is hidden or merely counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from inventory.models import ACTIVE, DBInstance
from posture.catalogue import ENTRIES, cap_for
from posture.effective import EffectiveFacts
from posture.fix_plan import FixPlan, OpenFinding, build_fix_plan
from posture.rules_clients import clients_that_would_fail
from posture.snapshot import build_facts, policy_from_settings

_FACT_LIMIT = 3
_NOT_FACTS = {"source", "at", "stale", "chain_verification"}


def endpoint_fix_plan(
    instance: DBInstance, findings, visible_instances: QuerySet[DBInstance]
) -> FixPlan | None:
    """The plan for the open `findings` (Finding rows) of `instance`; None for none, or for a
    gone endpoint (nothing to change). `visible_instances`: the endpoints the user may see."""
    if not findings:
        return None
    facts = build_facts([instance.pk])
    if not facts:
        return None
    effective = EffectiveFacts(facts[0], timezone.now(), policy_from_settings())
    plan = build_fix_plan(
        effective, [OpenFinding(f.finding_id, f.evidence, f.remediation) for f in findings]
    )
    if plan is None:
        return None
    would_fail = clients_that_would_fail(effective, plan.addresses)
    plan.clients_that_would_fail = would_fail.clients
    plan.clients_verdict = would_fail.text
    if plan.group_changed:
        plan.sharing_group = list(
            visible_instances.filter(
                ACTIVE,
                account_id=instance.account_id,
                region=instance.region,
                parameter_group=plan.group_changed,
            )
            .exclude(pk=instance.pk)
            .order_by("identifier")
            .values_list("identifier", flat=True)
        )
    return plan


@dataclass(frozen=True)
class GradeCap:
    grade: str
    finding_id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.grade} — capped by {self.finding_id}: {self.detail}"


def _day(value) -> str:
    return str(value)[:10]


def cap_detail(finding_id: str, evidence: dict) -> str:
    """A few words on why this finding holds: a date for expiries, else its title."""
    if "not_after" in evidence and finding_id.endswith(".expired"):
        return f"expired {_day(evidence['not_after'])}"
    if "not_after" in evidence:
        return f"expires {_day(evidence['not_after'])} ({evidence.get('days_left')} days)"
    entry = ENTRIES.get(finding_id)
    return entry.title if entry else finding_id


def grade_caps(grade: str, findings) -> list[GradeCap]:
    """The open findings whose cap is the grade: what holds it where it is."""
    return [
        GradeCap(grade, f.finding_id, cap_detail(f.finding_id, f.evidence))
        for f in findings
        if cap_for(f.finding_id, f.severity) == grade
    ]


def _words(key: str) -> str:
    return key.replace("_", " ")


def _is_fact(value) -> bool:
    """A posture Fact as evidence: {"raw", "value", "source", "at"}."""
    return isinstance(value, dict) and "source" in value and ("value" in value or "raw" in value)


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if _is_fact(value):
        shown = value.get("value", value.get("raw"))
        return _value(shown if shown is not None else value.get("raw"))
    if isinstance(value, list):
        shown = [_value(v) for v in value[:_FACT_LIMIT]]
        more = f" and {len(value) - _FACT_LIMIT} more" if len(value) > _FACT_LIMIT else ""
        return ", ".join(shown) + more if shown else "none"
    if isinstance(value, dict):
        named = value.get("name") or value.get("subject") or value.get("user") or value.get("fact")
        if named:
            return str(named)
        return ", ".join(f"{_words(k)} {_value(v)}" for k, v in list(value.items())[:2])
    return "unknown" if value is None else str(value)


def _sources(evidence: dict) -> list[tuple[str, str]]:
    """(source, at) of the evidence and of the facts inside it, first seen first."""
    found: list[tuple[str, str]] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            if value.get("source"):
                pair = (str(value["source"]), str(value.get("at") or ""))
                if pair not in found:
                    found.append(pair)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(evidence)
    return found


def plain_facts(evidence: dict) -> list[str]:
    """Two or three sentences of the evidence (its source and time: observed_line)."""
    facts = [
        f"{_words(key)}: {_value(value)}"
        for key, value in evidence.items()
        if key not in _NOT_FACTS and value not in (None, "", [], {})
    ][:_FACT_LIMIT]
    if evidence.get("chain_verification"):
        facts.append(f"chain verification {evidence['chain_verification']}")
    return facts


def observed_line(evidence: dict) -> str:
    """ "source live-wire, observed 2026-11-23T07:59:01Z" for each source the evidence read."""
    sources = _sources(evidence)
    if not sources:
        return "source not recorded"
    parts = [f"source {source}" + (f", observed {at}" if at else "") for source, at in sources]
    return "; ".join(parts[:_FACT_LIMIT]) + (" (stale)" if evidence.get("stale") else "")
