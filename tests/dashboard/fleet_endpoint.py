"""A database endpoint in the inventory that is one of the real fleet's servers: the
canonical name verified, the loopback address dialed, the fleet's bundle trusted, and a
checker profile whose password comes from an environment variable."""

from __future__ import annotations

from django.utils import timezone

from checker.models import CheckerProfile
from fleet.scenarios import endpoint_name
from inventory.models import CloudAccount, DBInstance

PASSWORD_VARIABLE = "DASHBOARD_FLEET_CHECKER_PASSWORD"


def fleet_endpoint(tls_fleet, monkeypatch, scenario: str = "enforced") -> DBInstance:
    server = tls_fleet[scenario]
    account, _ = CloudAccount.objects.get_or_create(
        name="fleet", defaults={"provider": "aws", "ca_bundle": str(tls_fleet.bundle_path)}
    )
    monkeypatch.setenv(PASSWORD_VARIABLE, server.checker.password)
    CheckerProfile.objects.get_or_create(
        name=f"fleet-{scenario}",
        defaults={
            "match": f"fleet/{scenario}",
            "username": server.checker.username,
            "password_env": PASSWORD_VARIABLE,
        },
    )
    now = timezone.now()
    return DBInstance.objects.create(
        account=account,
        provider="aws",
        region="us-east-1",
        identifier=scenario,
        resource_id=f"arn:aws:rds:us-east-1:111111111111:db:{scenario}",
        engine="mariadb",
        endpoint_host=endpoint_name(scenario),
        endpoint_port=3306,
        connect_host=server.host,
        connect_port=server.port,
        first_seen=now,
        last_seen=now,
    )
