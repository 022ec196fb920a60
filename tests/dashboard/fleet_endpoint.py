"""A database endpoint in the inventory that is one of the real fleet's servers
(tests/fleet_targets.py): the canonical name verified, the loopback address dialed, the
fleet's bundle trusted, the checker password handed over in an environment variable."""

from __future__ import annotations

from inventory.models import CloudAccount, DBInstance
from tests.fleet_targets import fleet_endpoint as fleet_target
from tests.fleet_targets import password_variable


def fleet_account(tls_fleet, **fields) -> CloudAccount:
    account, _ = CloudAccount.objects.get_or_create(
        name="fleet",
        defaults={"provider": "aws", "ca_bundle": str(tls_fleet.bundle_path), **fields},
    )
    return account


def fleet_endpoint(tls_fleet, monkeypatch, scenario: str = "enforced") -> DBInstance:
    monkeypatch.setenv(password_variable(scenario), tls_fleet[scenario].checker.password)
    return fleet_target(fleet_account(tls_fleet), tls_fleet, scenario)
