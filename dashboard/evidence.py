"""Audit evidence: one row per endpoint per control, PASS / FAIL / UNKNOWN, with the value
observed, where it came from, when, which check run saw it, and the framework references an
auditor maps it to. CSV, XLSX (typed, for people) and a printable page share these rows.

A control passes only on evidence: a fact that could not be learned is UNKNOWN with its
reason, never PASS (docs/design.md "Audit evidence"). Every export says when it was made, by
whom and with which filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from common.normalise import TLS_VERSIONS
from common.tabular import Column
from common.timeutil import iso_z
from dashboard.worklist import environment_of
from inventory.models import DBInstance
from posture.report import REPORT_ORDER

PASS, FAIL, UNKNOWN = "PASS", "FAIL", "UNKNOWN"
FRAMEWORKS = "PCI DSS 4.0 4.2.1; ISO 27001:2022 A.8.24; NIST SP 800-53 SC-8; CIS Controls v8 3.10"
_LEGACY = set(TLS_VERSIONS[: TLS_VERSIONS.index("TLSv1.2")])
CHUNK_SIZE = 500


@dataclass(frozen=True)
class Result:
    status: str
    value: str
    source: str = ""
    observed_at: datetime | None = None
    note: str = ""  # why it failed, or why it is unknown


@dataclass(frozen=True)
class Control:
    id: str
    name: str
    decide: Callable[[DBInstance, object, object, datetime], Result]


def _related(instance, name):
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None


def _when(source: str, state, instance) -> datetime | None:
    """A live fact was observed by the check; an API fact at the sync."""
    if source.startswith("live"):
        return state.last_checked if state else None
    return instance.last_seen


def _open(posture, *ids) -> list[str]:
    return [i for i in (posture.finding_ids or []) if i in ids] if posture else []


def _undecided(posture, *ids) -> str:
    if not posture:
        return "not evaluated yet"
    reasons = [f"{i}: {r}" for i, r in (posture.undetermined or {}).items() if i in ids]
    return "; ".join(reasons)


def _never(posture) -> Result:
    return Result(UNKNOWN, "", note="not evaluated yet")


def tls_offered(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    if _open(posture, "tls.unavailable"):
        return Result(
            FAIL, "no TLS", "live-wire", _when("live", state, instance), "tls.unavailable"
        )
    accepted = posture.tls_versions_accepted or []
    if accepted:
        return Result(PASS, ", ".join(accepted), "live-wire", _when("live", state, instance))
    if instance.ssl_enabled:
        return Result(PASS, "SSL enabled", "api:apsaradb-ssl", instance.last_seen)
    why = (posture.unknowns or {}).get("tls_versions_accepted", "no handshake observed")
    return Result(UNKNOWN, "", note=why)


def tls_enforced(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    source = posture.transport_enforced_source or ""
    when = _when(source, state, instance)
    if posture.transport_enforced is True:
        return Result(PASS, "enforced", source, when)
    if posture.transport_enforced is False:
        return Result(FAIL, "not enforced", source, when, "transport.not_enforced")
    why = (posture.unknowns or {}).get("transport_enforced", "not learned")
    return Result(UNKNOWN, "", note=why)


def minimum_tls_12(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    lowest = posture.lowest_tls_accepted
    failing = _open(posture, "protocol.sslv3", "protocol.legacy_tls")
    when = _when("live", state, instance)
    if lowest in _LEGACY or failing:
        allowed = ", ".join(failing) or f"{lowest} accepted"
        return Result(FAIL, lowest or "legacy allowed", "live-wire", when, allowed)
    if lowest:
        return Result(PASS, lowest, "live-wire", when)
    why = (posture.unknowns or {}).get("tls_versions_accepted", "no handshake observed")
    return Result(UNKNOWN, "", note=why)


_CERT_FINDINGS = (
    "cert.expired",
    "cert.untrusted",
    "cert.hostname_mismatch",
    "cert.self_signed",
    "cert.weak_key",
    "cert.weak_signature",
)


def certificate_valid_and_trusted(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    not_after = posture.server_cert_not_after
    value = f"valid until {iso_z(not_after)}" if not_after else ""
    source = posture.server_cert_source or ""
    failing = _open(posture, *_CERT_FINDINGS)
    if failing:
        return Result(FAIL, value, source, _when(source, state, instance), ", ".join(failing))
    undecided = _undecided(posture, "cert.untrusted", "cert.hostname_mismatch", "cert.expired")
    if undecided or not_after is None:
        return Result(UNKNOWN, value, source, note=undecided or "expiry not known")
    return Result(PASS, value, source, _when(source, state, instance))


def ca_current(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    failing = _open(posture, "ca.expired", "ca.deprecated")
    identifier = instance.ca_identifier
    value = identifier + (f" until {iso_z(posture.ca_valid_till)}" if posture.ca_valid_till else "")
    if failing:
        return Result(
            FAIL, value, "api:describe-certificates", instance.last_seen, ", ".join(failing)
        )
    if posture.ca_valid_till and posture.ca_valid_till > now:
        return Result(PASS, value, "api:describe-certificates", instance.last_seen)
    why = instance.ca_lookup_error or (
        "the provider names no CA for this endpoint" if not identifier else "CA validity unknown"
    )
    return Result(UNKNOWN, value, note=why)


_CIPHER_FINDINGS = (
    "cipher.anonymous_or_null",
    "cipher.broken",
    "cipher.no_forward_secrecy",
    "cipher.policy_weakened",
)


def no_weak_ciphers(instance, posture, state, now) -> Result:
    if posture is None:
        return _never(posture)
    when = _when("live", state, instance)
    failing = _open(posture, *_CIPHER_FINDINGS)
    if failing:
        return Result(FAIL, ", ".join(failing), "live-wire", when, ", ".join(failing))
    undecided = _undecided(posture, *_CIPHER_FINDINGS)
    if undecided:
        return Result(UNKNOWN, "", note=undecided)
    return Result(PASS, "no weak class accepted", "live-wire", when)


CONTROLS = (
    Control("tls-offered", "TLS offered", tls_offered),
    Control("tls-enforced", "TLS enforced", tls_enforced),
    Control("min-tls-1.2", "Minimum TLS version ≥ 1.2", minimum_tls_12),
    Control("certificate", "Certificate valid and trusted", certificate_valid_and_trusted),
    Control("ca-current", "CA current", ca_current),
    Control("no-weak-ciphers", "No weak ciphers", no_weak_ciphers),
)


def evidence_rows(instances: QuerySet[DBInstance], now: datetime) -> Iterator[dict]:
    """One row per endpoint per control, a chunk of endpoints at a time."""
    queryset = instances.select_related("account", "posture", "check_state__latest").order_by(
        *REPORT_ORDER
    )
    for instance in queryset.iterator(chunk_size=CHUNK_SIZE):
        posture = _related(instance, "posture")
        state = _related(instance, "check_state")
        latest = state.latest if state else None
        for control in CONTROLS:
            result = control.decide(instance, posture, state, now)
            yield {
                "account": instance.account.name,
                "region": instance.region,
                "identifier": instance.identifier,
                "environment": environment_of(instance.tags),
                "control": control.name,
                "status": result.status,
                "value": result.value,
                "source": result.source,
                "observed_at": result.observed_at,
                "check_run": latest.run_id if latest and result.source.startswith("live") else None,
                "note": result.note,
                "frameworks": FRAMEWORKS,
            }


def _get(key: str):
    return lambda row: row[key]


EVIDENCE_COLUMNS = (
    Column("account", "Account", _get("account")),
    Column("region", "Region", _get("region")),
    Column("identifier", "Endpoint", _get("identifier")),
    Column("environment", "Environment", _get("environment")),
    Column("control", "Control", _get("control")),
    Column("status", "Result", _get("status")),
    Column("value", "Observed value", _get("value")),
    Column("source", "Source", _get("source")),
    Column("observed_at", "Observed at (UTC)", lambda row: iso_z(row["observed_at"]), "datetime"),
    Column("check_run", "Check run", _get("check_run"), "number"),
    Column("note", "Why (failed or unknown)", _get("note")),
    Column("frameworks", "Framework references", _get("frameworks")),
)
