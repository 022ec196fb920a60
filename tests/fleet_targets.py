"""Endpoints backed by the real MariaDB fleet, as rows of an account, for checks through
workers: canonical names (what is verified), dialed through loopback overrides."""

from __future__ import annotations

from django.utils import timezone

from checker.models import CheckerProfile
from fleet.mysql8.persona import PersonaSpec
from fleet.scenarios import endpoint_name
from inventory.models import CloudAccount, DBInstance

# A region no test syncs: a complete listing of a synced region would mark these gone.
FLEET_REGION = "ap-southeast-2"


def password_variable(scenario: str) -> str:
    return f"TLSPOSTURE_CRED_FLEET_CHECKER_PW_{scenario.upper()}"


def worker_passwords(tls_fleet, scenarios: list[str]) -> dict[str, str]:
    """The checker passwords, as the workers' environment carries them (never stored)."""
    return {password_variable(s): tls_fleet[s].checker.password for s in scenarios}


def fleet_endpoint(account: CloudAccount, tls_fleet, scenario: str, identifier: str = ""):
    identifier = identifier or scenario
    server = tls_fleet[scenario]
    now = timezone.now()
    instance = DBInstance.objects.create(
        account=account,
        provider=account.provider,
        region=FLEET_REGION,
        resource_id=f"arn:aws:rds:{FLEET_REGION}:123456789012:db:{identifier}",
        identifier=identifier,
        # A MySQL 8 persona (fleet/mysql8/) stands for RDS MySQL; the rest are real MariaDB.
        engine="mysql" if isinstance(server.spec, PersonaSpec) else "mariadb",
        endpoint_host=endpoint_name(scenario),
        endpoint_port=3306,
        connect_host=server.host,
        connect_port=server.port,
        first_seen=now,
        last_seen=now,
    )
    CheckerProfile.objects.get_or_create(
        name=f"{account.name}-{identifier}",
        defaults={
            "match": f"{account.name}/{identifier}",
            "username": server.checker.username,
            "password_env": password_variable(scenario),
        },
    )
    return instance
