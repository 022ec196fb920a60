"""Read what a digest may mention, for one subscription's scope, as plain rows.

A fixed number of queries whatever the fleet size: one for the scope's accounts, one per
kind of row. Gone endpoints are never in scope.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from checker.models import ClientSighting
from inventory.models import ACTIVE, DBInstance, PendingAction
from notifications.digest import (
    CertificateAuthorityRow,
    ClientRow,
    DigestRows,
    Endpoint,
    FindingRow,
    GradeChangeRow,
    PendingActionRow,
    ServerCertificateRow,
)
from notifications.models import DigestSubscription
from posture.models import Finding, GradeChange
from posture.rules_clients import LEGACY_CLIENT_VERSIONS
from posture.visibility import visible_to


def scoped_instances(subscription: DigestSubscription) -> QuerySet[DBInstance]:
    """Endpoints in scope: those the subscription's owner may see (their teams' accounts,
    posture.visibility), narrowed by each non-empty dimension (any of its values matches);
    tags must all match, compared as text."""
    instances = visible_to(subscription.owner).instances.filter(ACTIVE)
    if subscription.providers:
        instances = instances.filter(provider__in=subscription.providers)
    account_ids = list(subscription.accounts.values_list("id", flat=True))
    if account_ids:
        instances = instances.filter(account_id__in=account_ids)
    if subscription.regions:
        instances = instances.filter(region__in=subscription.regions)
    for n, (key, value) in enumerate(sorted(subscription.tags.items())):
        # KeyTextTransform takes the key whole, so keys such as "aws:cloudformation:stack"
        # are never split into a JSON path; the cast makes the comparison plain text
        # (without it SQLite parses the value as JSON).
        alias = f"tag_{n}"
        tag_value = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
        instances = instances.alias(**{alias: tag_value}).filter(**{alias: str(value)})
    return instances


def gather_digest_rows(
    subscription: DigestSubscription, *, now: datetime, since: datetime
) -> DigestRows:
    scope = scoped_instances(subscription)
    horizon = now + timedelta(days=max(subscription.thresholds_days))
    return DigestRows(
        server_certificates=_server_certificates(scope, horizon),
        certificate_authorities=_certificate_authorities(scope, horizon),
        pending_actions=_pending_actions(scope),
        findings=_finding_changes(scope, since, now),
        grade_changes=_grade_changes(scope, since, now),
        clients=_new_clients(scope, since, now),
    )


def _endpoint(instance: DBInstance) -> Endpoint:
    return Endpoint(instance.pk, instance.identifier, instance.account.name, instance.region)


def _server_certificates(scope, horizon) -> list[ServerCertificateRow]:
    # Same precedence as build_digest (posture first); here only to leave far expiries out.
    near = scope.alias(
        expiry=Coalesce("posture__server_cert_not_after", "server_cert_not_after")
    ).filter(expiry__lte=horizon)
    return [
        ServerCertificateRow(
            endpoint=Endpoint(r["id"], r["identifier"], r["account__name"], r["region"]),
            posture_not_after=r["posture__server_cert_not_after"],
            posture_source=r["posture__server_cert_source"] or "",
            inventory_not_after=r["server_cert_not_after"],
            inventory_source=r["server_cert_source"],
        )
        for r in near.values(
            "id",
            "identifier",
            "account__name",
            "region",
            "posture__server_cert_not_after",
            "posture__server_cert_source",
            "server_cert_not_after",
            "server_cert_source",
        )
    ]


def _certificate_authorities(scope, horizon) -> list[CertificateAuthorityRow]:
    users: dict[int, list[str]] = {}
    cas: dict[int, dict] = {}
    for r in scope.filter(ca__valid_till__lte=horizon).values(
        "ca_id", "ca__identifier", "ca__account__name", "ca__region", "ca__valid_till", "identifier"
    ):
        cas[r["ca_id"]] = r
        users.setdefault(r["ca_id"], []).append(r["identifier"])
    return [
        CertificateAuthorityRow(
            identifier=r["ca__identifier"],
            account=r["ca__account__name"],
            region=r["ca__region"],
            valid_till=r["ca__valid_till"],
            used_by=tuple(users[ca_id]),
        )
        for ca_id, r in cas.items()
    ]


def _pending_actions(scope) -> list[PendingActionRow]:
    actions = PendingAction.objects.filter(instance__in=scope).select_related("instance__account")
    return [
        PendingActionRow(
            endpoint=_endpoint(a.instance),
            action=a.get_action_display(),
            due=a.due,
            description=a.description,
        )
        for a in actions
    ]


def _finding_changes(scope, since, now) -> list[FindingRow]:
    window = Q(first_seen__gt=since, first_seen__lte=now) | Q(
        resolved_at__gt=since, resolved_at__lte=now
    )
    findings = (
        Finding.objects.filter(window, instance__in=scope)
        .select_related("instance__account")
        .defer("evidence", "remediation")
    )
    return [
        FindingRow(
            endpoint=_endpoint(f.instance),
            finding_id=f.finding_id,
            severity=f.severity,
            first_seen=f.first_seen,
            resolved_at=f.resolved_at,
        )
        for f in findings
    ]


def _new_clients(scope, since, now) -> list[ClientRow]:
    """Clients first seen in the window without TLS or on TLS 1.0/1.1."""
    sightings = ClientSighting.objects.filter(
        Q(tls_version="") | Q(tls_version__in=LEGACY_CLIENT_VERSIONS),
        instance__in=scope,
        first_seen__gt=since,
        first_seen__lte=now,
    ).select_related("instance__account")
    return [
        ClientRow(
            endpoint=_endpoint(s.instance),
            client=f"{s.user}@{s.host}",
            tls_version=s.tls_version,
            first_seen=s.first_seen,
            connections=s.connections,
        )
        for s in sightings
    ]


def _grade_changes(scope, since, now) -> list[GradeChangeRow]:
    changes = GradeChange.objects.filter(
        instance__in=scope, changed_at__gt=since, changed_at__lte=now
    ).select_related("instance__account")
    return [
        GradeChangeRow(
            endpoint=_endpoint(c.instance),
            previous=c.previous,
            grade=c.grade,
            changed_at=c.changed_at,
        )
        for c in changes
    ]
