"""Whether the evidence behind a grade is complete enough to vouch for A or A+.

docs/design.md "Finding catalogue": a grade vouches only for what was verified. A and A+
need a fresh live probe (within Policy.live_fresh_for, i.e. TLSPOSTURE_STALE_AFTER_HOURS)
and a known transport-enforcement state. What is missing becomes `evidence.incomplete`
(cap B), and each missing fact says why it is missing and what would supply it: a network
path and a checker profile, a named cloud permission, or a working login for the checker
account.

Pure: an EffectiveFacts in, plain data out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from checker.evidence import SESSION_AUTH_FAILED
from common.timeutil import iso_z
from posture.effective import EffectiveFacts
from posture.outcomes import Outcome, Raised

LIVE_PROBE = "fresh live probe"
TRANSPORT = "transport enforcement"


@dataclass(frozen=True)
class MissingFact:
    fact: str
    why: str
    supplied_by: str

    def sentence(self) -> str:
        return f"{self.fact} missing ({self.why}); supplied by {self.supplied_by}"


def missing_evidence(effective: EffectiveFacts) -> list[MissingFact]:
    """What A and A+ need and this endpoint lacks, each with why and what supplies it."""
    missing = []
    probe_missing = _probe_missing(effective)
    if probe_missing:
        missing.append(probe_missing)
    if not effective.transport_enforced.known:
        missing.append(
            MissingFact(
                TRANSPORT, effective.transport_enforced.reason, _transport_supplier(effective)
            )
        )
    return missing


def evidence_incomplete(effective: EffectiveFacts) -> Outcome:
    missing = missing_evidence(effective)
    if not missing:
        return None
    return Raised(
        {
            "missing": [asdict(item) for item in missing],
            # What was judged: the latest observation (and its time) and the API's facts.
            "source": "live-wire+api",
            "at": iso_z(effective.checked_at),
            "fresh_for_hours": round(effective.policy.live_fresh_for.total_seconds() / 3600),
        }
    )


def _probe_missing(effective: EffectiveFacts) -> MissingFact | None:
    facts = effective.facts
    if effective.wire_seen and effective.fresh:
        return None
    if not facts.endpoint_host:
        return MissingFact(
            LIVE_PROBE,
            "the cloud API reports no endpoint for it",
            "an endpoint: the API lists one once the instance is available",
        )
    path = _network_path(effective)
    if effective.check is None:
        return MissingFact(LIVE_PROBE, "never checked", path)
    if not effective.wire_seen:
        return MissingFact(LIVE_PROBE, effective.no_live_reason, path)
    hours = round(effective.policy.live_fresh_for.total_seconds() / 3600)
    return MissingFact(
        LIVE_PROBE,
        f"the latest probe ({iso_z(effective.checked_at)}) is older than {hours} hours "
        "(TLSPOSTURE_STALE_AFTER_HOURS)",
        f"a new check: `manage.py check_tls --instance {facts.account}/{facts.identifier}`, "
        "or the schedule (TLSPOSTURE_CHECK_EVERY)",
    )


def _network_path(effective: EffectiveFacts) -> str:
    facts = effective.facts
    zone = facts.network_zone or "default"
    where = f"{facts.endpoint_host}:{facts.endpoint_port or 3306}"
    return (
        f"a network path from a checker of network zone '{zone}' to {where} (a worker on "
        f"queue zone.{zone} inside that network), and a checker profile matching "
        f"'{facts.account}/{facts.identifier}' (connect_host/connect_port when it is reached "
        "through a tunnel)"
    )


def _transport_supplier(effective: EffectiveFacts) -> str:
    """What would make transport enforcement known for this endpoint."""
    facts = effective.facts
    if facts.kind == "proxy":
        return f"the cloud permission {effective.provider.permission(facts, 'proxy')}"
    suppliers = []
    provider = effective.provider
    permissions = [
        provider.permission(facts, what)
        for what, _ in facts.lookup_errors
        if provider.permission(facts, what)
    ]
    if permissions:
        names = " and ".join(dict.fromkeys(permissions))
        suppliers.append(f"the cloud permission {names}")
    suppliers.append(_login_supplier(effective))
    return "; or ".join(suppliers)


def _login_supplier(effective: EffectiveFacts) -> str:
    """A live login reads the enforcement variable: what stands in its way."""
    facts = effective.facts
    label = f"'{facts.account}/{facts.identifier}'"
    session = effective.session
    variable = f"@@{effective.enforcement_parameter}"
    if effective.check is not None and session.outcome == SESSION_AUTH_FAILED:
        return (
            "a working login for the checker account (CREATE USER … REQUIRE SSL; it needs no "
            f"grant to read {variable}; README 'Checking endpoints'): {label} "
            f"was refused ({session.reason or 'access denied'})"
        )
    if effective.check is not None and session.reason.startswith("credentials not sent"):
        return (
            "a certificate that verifies against the trust bundle, so the checker logs in "
            f"and reads {variable} ({session.reason})"
        )
    return (
        f"checker credentials in a checker profile matching {label} (a login reads "
        f"{variable}; README 'Checking endpoints')"
    )
