"""A frozen clock, a real SMTP server on loopback, and a small deterministic fleet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from checker.models import ClientSighting
from inventory.models import CACertificate, CloudAccount, DBInstance, PendingAction
from notifications.models import DigestSubscription
from posture.models import Finding, GradeChange, InstancePosture
from tests.notifications.smtp import SMTPServer
from tests.teams import join_team

# Monday 2026-11-23 09:00 in Berlin.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def organisation_domain(settings):
    """The organisation's own domain: where non-staff users may send digests."""
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "DIGEST_ALLOWED_DOMAINS": ["example.com"]}


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def smtp_server(settings):
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "tlsposture@example.com"
    settings.SITE_URL = "https://tlsposture.example.com"
    try:
        yield server
    finally:
        server.stop()


def make_instance(account, identifier, *, region="us-east-1", **fields):
    return DBInstance.objects.create(
        account=account,
        provider=account.provider,
        region=region,
        identifier=identifier,
        resource_id=f"{account.name}:{region}:{identifier}",
        engine="mysql",
        first_seen=NOW - 90 * DAY,
        last_seen=NOW,
        **fields,
    )


@pytest.fixture
def fleet(db):
    """Every kind of row a digest shows, and the kinds it must leave out."""
    aws = CloudAccount.objects.create(name="prod-aws", provider="aws")
    aliyun = CloudAccount.objects.create(name="cn-aliyun", provider="aliyun")
    ca_2019 = CACertificate.objects.create(
        account=aws,
        region="us-east-1",
        identifier="rds-ca-2019",
        valid_till=NOW + 6 * DAY,
        first_seen=NOW,
        last_seen=NOW,
    )
    ca_g1 = CACertificate.objects.create(
        account=aws,
        region="us-east-1",
        identifier="rds-ca-rsa2048-g1",
        valid_till=NOW + 5000 * DAY,
        first_seen=NOW,
        last_seen=NOW,
    )
    orders = make_instance(
        aws,
        "orders-db",
        ca=ca_2019,
        server_cert_not_after=NOW - DAY / 2,  # expired half a day ago: newly crossed
        server_cert_source="api:certificate-details",
        tags={"team": "payments", "aws:cloudformation:stack-name": "orders"},
    )
    billing = make_instance(
        aws,
        "billing-db",
        ca=ca_g1,
        server_cert_not_after=NOW + 300 * DAY,
        server_cert_source="api:certificate-details",
        tags={"team": "payments"},
    )
    # The live certificate (posture) wins over the API's date.
    InstancePosture.objects.create(
        instance=billing,
        grade="C",
        evaluated_at=NOW,
        server_cert_not_after=NOW + 5 * DAY,
        server_cert_source="live-wire",
    )
    reports = make_instance(
        aws,
        "reports-db",
        region="eu-west-1",
        ca=ca_2019,
        server_cert_not_after=NOW + 20 * DAY,
        server_cert_source="api:certificate-details",
        tags={"team": "analytics"},
    )
    make_instance(aws, "unknown-db", ca_identifier="rds-ca-missing", ca_lookup_error="not found")
    make_instance(aws, "far-db", ca=ca_g1, server_cert_not_after=NOW + 200 * DAY)
    gone = make_instance(
        aws, "legacy-db", ca=ca_2019, server_cert_not_after=NOW - 30 * DAY, gone_at=NOW - DAY
    )
    hangzhou = make_instance(
        aliyun,
        "rm-hz-payments",
        region="cn-hangzhou",
        server_cert_not_after=NOW + 60 * DAY,
        server_cert_source="api:apsaradb-ssl",
        tags={"team": "payments"},
    )
    for instance, action, dates in [
        (orders, PendingAction.Action.CA_ROTATION, {"current_apply_date": NOW + 10 * DAY}),
        (hangzhou, PendingAction.Action.SSL_RENEWAL, {"forced_apply_date": NOW + 3 * DAY}),
        (reports, PendingAction.Action.CA_CHANGE, {}),
        (gone, PendingAction.Action.CA_ROTATION, {"current_apply_date": NOW + DAY}),
    ]:
        PendingAction.objects.create(
            instance=instance, action=action, first_seen=NOW, last_seen=NOW, **dates
        )
    for instance, finding_id, severity, first_seen, resolved_at in [
        (orders, "transport.not_enforced", "high", NOW - DAY / 8, None),
        (billing, "cert.expiring", "high", NOW - DAY / 4, None),
        (billing, "cipher.no_forward_secrecy", "medium", NOW - 10 * DAY, None),
        (reports, "tls.unavailable", "critical", NOW - 9 * DAY, NOW - DAY / 12),
        (gone, "transport.not_enforced", "high", NOW - DAY / 8, None),
    ]:
        Finding.objects.create(
            instance=instance,
            finding_id=finding_id,
            severity=severity,
            first_seen=first_seen,
            last_seen=NOW,
            resolved_at=resolved_at,
        )
    for instance, previous, grade, at in [
        (billing, "A", "C", NOW - DAY / 24),
        (reports, "F", "B", NOW - DAY / 12),  # an improvement: not a drop
    ]:
        GradeChange.objects.create(instance=instance, previous=previous, grade=grade, changed_at=at)
    # Clients the checks saw: first seen since the previous digest without TLS or on TLS 1.0
    # (listed), on TLS 1.2 (not), before the previous digest (not), on a gone endpoint (not).
    for instance, user, host, version, first_seen in [
        (orders, "app", "10.0.3.7", "", NOW - DAY / 4),
        (billing, "batch", "10.0.4.2", "TLSv1", NOW - DAY / 6),
        (billing, "api", "10.0.4.3", "TLSv1.2", NOW - DAY / 6),
        (orders, "report", "10.0.3.9", "", NOW - 3 * DAY),
        (gone, "app", "10.0.3.7", "", NOW - DAY / 4),
    ]:
        ClientSighting.objects.create(
            instance=instance,
            user=user,
            host=host,
            tls_version=version,
            connections=2,
            checks=2,
            first_seen=first_seen,
            last_seen=NOW - DAY / 24,
        )
    return {"aws": aws, "aliyun": aliyun, "orders": orders, "billing": billing}


@pytest.fixture
def owner(django_user_model):
    user = django_user_model.objects.create_user("platform", password="pw-for-tests-only")
    return join_team(user)  # every account: a digest's scope is what its owner may see


def subscribe(owner, **fields) -> DigestSubscription:
    fields.setdefault("name", "Platform team")
    fields.setdefault("recipients", "ops@example.com\ndba@example.com")
    fields.setdefault("time_zone", "Europe/Berlin")
    accounts = fields.pop("accounts", [])
    subscription = DigestSubscription.objects.create(owner=owner, **fields)
    subscription.accounts.set(accounts)
    return subscription
