"""Build the rules' frozen inputs (posture/facts.py) from models, many endpoints at a time.

A fixed number of queries per batch, whatever its size: instances with their account, CA,
parent and latest observation (one join), their TLS parameters, pending actions, and the
members of any cluster among them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from checker.evidence import Evidence
from checker.models import ClientReadout, ClientSighting
from inventory.models import ACTIVE, DBInstance
from posture.facts import (
    CertificateAuthority,
    ClientCheck,
    ClientEvidence,
    ClientSeen,
    InstanceFacts,
    LiveCheck,
    Parameter,
    Pending,
    Policy,
)


def policy_from_settings() -> Policy:
    config = settings.TLSPOSTURE
    thresholds = sorted({int(d) for d in config.get("EXPIRY_THRESHOLDS_DAYS", [])}, reverse=True)
    if len(thresholds) != 3:
        thresholds = [90, 30, 7]
    return Policy(
        live_fresh_for=timedelta(hours=config.get("STALE_AFTER_HOURS", 26)),
        expiry_days=tuple(thresholds),
        client_window=timedelta(days=config.get("CLIENT_WINDOW_DAYS", 30)),
    )


def _live_check(state) -> LiveCheck | None:
    observation = state.latest if state else None
    if observation is None:
        return None
    try:
        evidence = Evidence.from_dict(observation.evidence)
        reason = observation.reason
    except (TypeError, ValueError) as exc:
        # Evidence this reader cannot parse is no evidence: every live fact is unknown.
        evidence, reason = Evidence(), f"unreadable evidence: {exc}"
    return LiveCheck(
        checked_at=observation.checked_at,
        status=observation.status,
        reason=reason,
        evidence=evidence,
        observation_id=observation.pk,
    )


def _parameters(row: DBInstance) -> tuple[Parameter, ...]:
    return tuple(
        Parameter(
            name=p.name,
            raw_value=p.raw_value,
            value=p.normalised_value,
            source=p.source,
            source_name=p.source_name,
            set_by=p.set_by,
            apply_type=p.apply_type,
            apply_status=p.apply_status,
            updated_at=p.updated_at,
        )
        for p in row.tls_parameters.all()
    )


def _pending(row: DBInstance) -> tuple[Pending, ...]:
    return tuple(
        Pending(
            action=a.action,
            description=a.description,
            due=a.due,
            opt_in_status=a.opt_in_status,
        )
        for a in row.pending_actions.all()
    )


def _check_state(row: DBInstance):
    try:
        return row.check_state
    except ObjectDoesNotExist:
        return None


def build_facts(
    instance_ids: Iterable[int],
    open_findings: dict[int, list[tuple[str, str]]] | None = None,
) -> list[InstanceFacts]:
    """InstanceFacts of the active endpoints among `instance_ids` (gone ones are skipped)."""
    open_findings = open_findings or {}
    rows = list(
        DBInstance.objects.filter(ACTIVE, pk__in=list(instance_ids))
        .select_related("account", "ca", "parent", "check_state__latest")
        .prefetch_related("tls_parameters", "pending_actions")
        .order_by("pk")
    )
    members: dict[int, list[str]] = defaultdict(list)
    clusters = [row.pk for row in rows if row.kind == DBInstance.Kind.CLUSTER]
    if clusters:
        for parent_id, identifier in (
            DBInstance.objects.filter(ACTIVE, parent_id__in=clusters)
            .order_by("identifier")
            .values_list("parent_id", "identifier")
        ):
            members[parent_id].append(identifier)
    clients = _client_evidence([row.pk for row in rows])
    return [
        _facts(row, members.get(row.pk, []), open_findings.get(row.pk, []), clients.get(row.pk))
        for row in rows
    ]


def _client_evidence(ids: list[int]) -> dict[int, ClientEvidence]:
    """Two queries for the batch; the writer keeps only the window (checker/client_evidence)."""
    checks: dict[int, list[ClientCheck]] = defaultdict(list)
    for row in ClientReadout.objects.filter(instance_id__in=ids).order_by("-checked_at"):
        checks[row.instance_id].append(
            ClientCheck(
                checked_at=row.checked_at,
                state=row.state,
                reason=row.reason,
                counted_connections=row.counted_connections,
                counted_without_tls=row.counted_without_tls,
            )
        )
    seen: dict[int, list[ClientSeen]] = defaultdict(list)
    for row in ClientSighting.objects.filter(instance_id__in=ids):
        seen[row.instance_id].append(
            ClientSeen(
                user=row.user,
                host=row.host,
                tls_version=row.tls_version,
                connections=row.connections,
                checks=row.checks,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
            )
        )
    return {
        iid: ClientEvidence(checks=tuple(checks.get(iid, ())), sightings=tuple(seen.get(iid, ())))
        for iid in set(checks) | set(seen)
    }


def _facts(row: DBInstance, members: list[str], open_findings, clients=None) -> InstanceFacts:
    parent = row.parent
    return InstanceFacts(
        instance_id=row.pk,
        provider=row.provider,
        account=row.account.name,
        region=row.region,
        kind=row.kind,
        identifier=row.identifier,
        engine=row.engine,
        engine_version=row.engine_version,
        resource_id=row.resource_id,
        endpoint_host=row.endpoint_host,
        endpoint_port=row.endpoint_port,
        parent_identifier=parent.identifier if parent else "",
        parent_parameter_group=parent.parameter_group if parent else "",
        parent_parameter_group_is_default=parent.parameter_group_is_default if parent else None,
        member_identifiers=tuple(members),
        parameter_group=row.parameter_group,
        parameter_group_is_default=row.parameter_group_is_default,
        parameter_apply_status=row.parameter_apply_status,
        parameters=_parameters(row),
        ca_identifier=row.ca_identifier,
        ca=CertificateAuthority(row.ca.identifier, row.ca.valid_till) if row.ca else None,
        ca_lookup_error=row.ca_lookup_error,
        pending_ca_identifier=row.pending_ca_identifier,
        pending_actions=_pending(row),
        server_cert_not_after=row.server_cert_not_after,
        server_cert_source=row.server_cert_source,
        proxy_require_tls=row.proxy_require_tls,
        ssl_enabled=row.ssl_enabled,
        ssl_forced=row.ssl_forced,
        ssl_endpoint=row.ssl_endpoint,
        lookup_errors=tuple(sorted((str(k), str(v)) for k, v in (row.lookup_errors or {}).items())),
        synced_at=row.last_seen,
        network_zone=row.account.network_zone,
        check=_live_check(_check_state(row)),
        open_findings=tuple(open_findings),
        clients=clients or ClientEvidence(),
    )
