"""A synthetic fleet written straight into the database: thousands of endpoints in seconds.

For the dashboard's query-count tests and the page and export benchmarks, which need the
rows a real fleet leaves behind (inventory, check states, evaluated posture, findings,
grade history, pending rotations, sync and check runs) at a size no real world here
reaches. Rows are consistent with each other (a posture's finding ids are its open
findings, its grade their lowest cap), not the output of the posture rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from checker.evidence import (
    ACCEPTED,
    CIPHER_CLASSES,
    PROTOCOL_VERSIONS,
    REJECTED,
    CertificateInfo,
    Evidence,
    ProbeEvidence,
    SessionEvidence,
    Verdict,
    Verification,
)
from checker.models import CheckRun, Observation, TargetState
from inventory.models import (
    CACertificate,
    CloudAccount,
    DBInstance,
    PendingAction,
    SyncRegion,
    SyncRun,
    TLSParameter,
)
from posture.catalogue import ENTRIES, cap_for
from posture.grades import severity_rank, worst_grade
from posture.models import Finding, GradeChange, InstancePosture

DAY = timedelta(days=1)
BATCH = 2000
ACCOUNTS = (
    ("prod-aws", "aws"),
    ("staging-aws", "aws"),
    ("data-aws", "aws"),
    ("cn-aliyun", "aliyun"),
)
REGIONS = {"aws": ("us-east-1", "eu-west-1", "ap-southeast-2"), "aliyun": ("cn-hangzhou",)}
ENGINES = {
    "aws": (
        ("mysql", "8.0.39"),
        ("mysql", "8.0.36"),
        ("mariadb", "10.11.9"),
        ("aurora-mysql", "3.07.1"),
    ),
    "aliyun": (("mysql", "8.0"), ("mysql", "5.7")),
}
CAS = (("rds-ca-rsa2048-g1", 12_000), ("rds-ca-2019", -400), ("rds-ca-ecc384-g1", 25))


@dataclass(frozen=True)
class Profile:
    """A kind of endpoint and what its evaluation holds."""

    name: str
    findings: tuple[tuple[str, str], ...]  # (catalogue id, severity)
    enforced: bool | None
    accepted: tuple[str, ...] | None
    cert_days: int | None  # server certificate valid for this many more days


PROFILES = (
    Profile("exemplary", (), True, ("TLSv1.2", "TLSv1.3"), 300),
    Profile("no-tls13", (("protocol.no_tls13", "low"),), True, ("TLSv1.2",), 200),
    Profile(
        "optional",
        (("transport.not_enforced", "high"), ("accounts.without_require_ssl", "medium")),
        False,
        ("TLSv1.2", "TLSv1.3"),
        150,
    ),
    Profile(
        "legacy",
        (("protocol.legacy_tls", "high"),),
        True,
        ("TLSv1.0", "TLSv1.1", "TLSv1.2"),
        90,
    ),
    Profile(
        "failing",
        (
            ("cipher.anonymous_or_null", "critical"),
            ("protocol.legacy_tls", "high"),
            ("transport.not_enforced", "high"),
        ),
        False,
        ("TLSv1.0", "TLSv1.2"),
        -3,
    ),
    Profile("expiring", (("cert.expiring", "medium"),), True, ("TLSv1.2", "TLSv1.3"), 20),
    Profile("rotation", (("ca.rotation_pending", "medium"),), True, ("TLSv1.2", "TLSv1.3"), 5),
    Profile("never-checked", (), None, None, None),
)


@dataclass
class SyntheticFleet:
    accounts: list[CloudAccount]
    instances: int


def _accounts() -> list[CloudAccount]:
    accounts = []
    for name, provider in ACCOUNTS:
        account, _ = CloudAccount.objects.get_or_create(
            name=name, defaults={"provider": provider, "regions": list(REGIONS[provider])}
        )
        accounts.append(account)
    return accounts


def _cas(accounts, now) -> dict[tuple[int, str], list[CACertificate]]:
    cas = {}
    for account in accounts:
        if account.provider != "aws":
            continue
        for region in REGIONS["aws"]:
            rows = []
            for identifier, days in CAS:
                ca, _ = CACertificate.objects.get_or_create(
                    account=account,
                    region=region,
                    identifier=identifier,
                    defaults={"valid_till": now + days * DAY, "first_seen": now, "last_seen": now},
                )
                rows.append(ca)
            cas[account.pk, region] = rows
    return cas


def _runs(accounts, now) -> None:
    if SyncRun.objects.exists():
        return
    for n, account in enumerate(accounts):
        for age in (2, 1):
            run = SyncRun.objects.create(
                account=account,
                started_at=now - age * DAY,
                finished_at=now - age * DAY + timedelta(minutes=3),
                status=SyncRun.Status.PARTIAL if n == 1 and age == 1 else SyncRun.Status.OK,
            )
            for region in REGIONS[account.provider]:
                failed = n == 1 and age == 1 and region == "eu-west-1"
                SyncRegion.objects.create(
                    run=run,
                    region=region,
                    status=SyncRegion.Status.FAILED if failed else SyncRegion.Status.OK,
                    error="AccessDenied: rds:DescribeDBInstances" if failed else "",
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                )
    CheckRun.objects.create(
        started_at=now - timedelta(hours=3),
        finished_at=now - timedelta(hours=2),
        status=CheckRun.Status.DONE,
        targets=1,
        ok=1,
    )


@transaction.atomic
def seed_fleet(
    size: int, *, start: int = 0, now: datetime | None = None, seed: int = 7
) -> SyntheticFleet:
    """Add `size` endpoints numbered from `start`, spread over accounts, regions, engines
    and profiles. Call again with a later `start` to grow the same fleet."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed + start)  # noqa: S311 - test data, not secrets
    accounts = _accounts()
    cas = _cas(accounts, now)
    _runs(accounts, now)
    instances = []
    for n in range(start, start + size):
        account = accounts[n % len(accounts)]
        regions = REGIONS[account.provider]
        region = regions[(n // len(accounts)) % len(regions)]
        engine, version = rng.choice(ENGINES[account.provider])
        identifier = f"db-{n:06d}"
        host = f"{identifier}.c{account.pk}.{region}.rds.amazonaws.com"
        ca_rows = cas.get((account.pk, region), [])
        ca = ca_rows[n % len(ca_rows)] if ca_rows else None
        instances.append(
            DBInstance(
                account=account,
                provider=account.provider,
                region=region,
                kind="proxy" if n % 50 == 49 else "instance",
                identifier=identifier,
                resource_id=f"{account.name}:{region}:{identifier}",
                engine=engine,
                engine_version=version,
                status="available",
                endpoint_host=host,
                endpoint_port=3306,
                parameter_group=f"{engine}-tls" if account.provider == "aws" else "",
                ca=ca,
                ca_identifier=ca.identifier if ca else "",
                tags={"env": ("prod", "staging", "dev")[n % 3], "team": f"team-{n % 7}"},
                first_seen=now - 90 * DAY,
                last_seen=now,
            )
        )
    instances = DBInstance.objects.bulk_create(instances, batch_size=BATCH)
    _evaluation(instances, rng, now)
    return SyntheticFleet(accounts=accounts, instances=len(instances))


def _evidence(instance: DBInstance, profile: Profile, now: datetime) -> dict:
    """What a check of this kind of endpoint shows, as the checker stores it."""
    accepted = set(profile.accepted or ())
    weak = {"anonymous_null_export"} if profile.name == "failing" else set()
    host = instance.endpoint_host
    not_after = now + (profile.cert_days or 0) * DAY
    return Evidence(
        dialed=f"{host}:3306",
        verified_name=host,
        trust_bundle="rds-global-bundle",
        probe=ProbeEvidence(
            reached=True,
            server_version=instance.engine_version,
            flavour="mariadb" if instance.engine == "mariadb" else "mysql",
            tls_offered=True,
            chain=[
                CertificateInfo(
                    subject=f"CN={host}",
                    common_name=host,
                    sans=[host],
                    issuer=f"CN=Amazon RDS {instance.region} Root CA RSA2048 G1",
                    not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    key_type="RSA",
                    key_bits=2048,
                    signature_hash="sha256",
                )
            ],
            trust=Verification(True),
            hostname=Verification(True),
            protocols={
                v: Verdict(ACCEPTED if v in accepted else REJECTED) for v in PROTOCOL_VERSIONS
            },
            cipher_classes={
                c: Verdict(ACCEPTED if c in weak else REJECTED) for c in CIPHER_CLASSES
            },
            handshakes=9,
        ),
        session=SessionEvidence(
            attempted=True,
            outcome="ok",
            tls_version=max(accepted),
            variables={"require_secure_transport": "ON" if profile.enforced else "OFF"},
        ),
    ).to_dict()


def _evaluation(instances: list[DBInstance], rng: random.Random, now: datetime) -> None:
    postures, findings, states, changes, actions, parameters = [], [], [], [], [], []
    observations = []
    for instance in instances:
        profile = rng.choice(PROFILES)
        parameters.append(
            TLSParameter(
                instance=instance,
                name="require_secure_transport",
                raw_value={True: "1", False: "0", None: None}[profile.enforced],
                normalised_value=profile.enforced,
                source="api:parameter-group",
                source_name=instance.parameter_group,
                set_by="user",
                apply_type="dynamic",
                apply_status="in-sync",
                updated_at=now,
            )
        )
        checked = profile.accepted is not None
        if checked:
            status = "unreachable" if instance.pk % 97 == 0 else "ok"
            at = now - timedelta(minutes=rng.randrange(30, 600))
            observations.append(
                Observation(
                    instance=instance,
                    checked_at=at,
                    status=status,
                    dialed=f"{instance.endpoint_host}:3306",
                    verified_name=instance.endpoint_host,
                    duration_ms=rng.randrange(80, 900),
                    evidence=_evidence(instance, profile, now) if status == "ok" else {},
                )
            )
        if profile.name == "never-checked" and instance.pk % 2:
            continue  # never evaluated either: no posture row at all
        ids = [fid for fid, _ in profile.findings]
        severities = [severity for _, severity in profile.findings]
        grade = worst_grade(cap_for(fid, sev) for fid, sev in profile.findings)
        if profile.name == "exemplary":
            grade = "A+"
        if profile.name == "never-checked":
            grade = "?"
        not_after = now + profile.cert_days * DAY if profile.cert_days is not None else None
        postures.append(
            InstancePosture(
                instance=instance,
                grade=grade,
                evaluated_at=now,
                transport_enforced=profile.enforced,
                transport_enforced_source="api:parameter-group" if checked else "",
                tls_versions_configured=["TLSv1.2", "TLSv1.3"] if checked else None,
                tls_versions_accepted=list(profile.accepted) if checked else None,
                tls_versions_rejected=[v for v in PROTOCOL_VERSIONS if v not in profile.accepted]
                if checked
                else None,
                lowest_tls_accepted=profile.accepted[0] if checked else "",
                server_cert_not_after=not_after,
                server_cert_source="live-wire" if not_after else "",
                ca_valid_till=instance.ca.valid_till if instance.ca else None,
                open_findings=len(ids),
                worst_severity=min(severities, key=severity_rank, default=""),
                finding_ids=sorted(ids),
                unknowns={} if checked else {"tls_versions_accepted": "never checked"},
                evaluated_synced_at=instance.last_seen,  # the observation's id follows below
            )
        )
        for fid, severity in profile.findings:
            findings.append(
                Finding(
                    instance=instance,
                    finding_id=fid,
                    severity=severity,
                    evidence={"finding": fid, "source": "live-wire", "seen": ENTRIES[fid].title},
                    remediation=f"aws rds modify-db-parameter-group --db-parameter-group-name "
                    f"{instance.parameter_group or 'custom'} # fixes {fid}",
                    first_seen=now - 30 * DAY,
                    last_seen=now,
                )
            )
        if grade != "A+":
            changes.append(
                GradeChange(instance=instance, grade=grade, previous="A", changed_at=now - DAY)
            )
        if profile.name == "rotation":
            actions.append(
                PendingAction(
                    instance=instance,
                    action=PendingAction.Action.CA_ROTATION,
                    description="CA certificate rotation to rds-ca-rsa2048-g1",
                    current_apply_date=now + rng.randrange(3, 120) * DAY,
                    forced_apply_date=now + 150 * DAY,
                    first_seen=now - 10 * DAY,
                    last_seen=now,
                )
            )
    TLSParameter.objects.bulk_create(parameters, batch_size=BATCH)
    for observation in Observation.objects.bulk_create(observations, batch_size=BATCH):
        states.append(
            TargetState(
                instance_id=observation.instance_id,
                latest=observation,
                last_checked=observation.checked_at,
                status=observation.status,
                last_ok_at=observation.checked_at if observation.status == "ok" else None,
            )
        )
    TargetState.objects.bulk_create(states, batch_size=BATCH)
    # Each grade was evaluated from its endpoint's latest observation: none is behind.
    latest = {state.instance_id: state.latest.pk for state in states}
    for posture in postures:
        posture.evaluated_observation_id = latest.get(posture.instance_id)
    InstancePosture.objects.bulk_create(postures, batch_size=BATCH)
    Finding.objects.bulk_create(findings, batch_size=BATCH)
    GradeChange.objects.bulk_create(changes, batch_size=BATCH)
    PendingAction.objects.bulk_create(actions, batch_size=BATCH)
