"""Real model rows for posture tests: inventory written by inventory.region_writer.write_region,
observations as the checker stores them (Observation + TargetState)."""

from __future__ import annotations

from datetime import UTC, datetime

from checker.evidence import Evidence
from checker.models import Observation, TargetState
from inventory.facts import CAFact, InstanceFact, ParameterFact, RegionInventory
from inventory.models import DBInstance
from inventory.region_writer import write_region

REGION = "us-east-1"
CA = CAFact("rds-ca-rsa2048-g1", valid_till=datetime(2061, 5, 24, 22, 59, tzinfo=UTC))
CA_2019 = CAFact("rds-ca-2019", valid_till=datetime(2024, 8, 22, 17, 8, tzinfo=UTC))


def rst(raw: str, group: str = "orders-tls", set_by: str = "user") -> ParameterFact:
    return ParameterFact(
        "require_secure_transport",
        raw,
        "api:parameter-group",
        group,
        set_by=set_by,
        apply_type="dynamic",
        apply_status="in-sync",
    )


def tls_version(raw: str, group: str = "orders-tls") -> ParameterFact:
    return ParameterFact(
        "tls_version", raw, "api:parameter-group", group, set_by="user", apply_type="static"
    )


def instance_fact(name: str, **kw) -> InstanceFact:
    defaults = {
        "kind": "instance",
        "identifier": name,
        "resource_id": f"arn:aws:rds:{REGION}:111111111111:db:{name}",
        "engine": "mysql",
        "engine_version": "8.0.39",
        "endpoint_host": f"{name}.abc.{REGION}.rds.amazonaws.com",
        "endpoint_port": 3306,
        "parameter_group": "orders-tls",
        "parameter_group_is_default": False,
        "parameter_apply_status": "in-sync",
        "parameters": (rst("1"), tls_version("TLSv1.2,TLSv1.3")),
        "ca_identifier": "rds-ca-rsa2048-g1",
        "server_cert_not_after": datetime(2027, 5, 24, 22, 59, tzinfo=UTC),
        "server_cert_source": "api:certificate-details",
    }
    defaults.update(kw)
    return InstanceFact(**defaults)


def sync(account, *facts: InstanceFact, cas=(CA, CA_2019), complete=True):
    return write_region(account, RegionInventory(REGION, tuple(facts), cas, complete=complete))


def instance(account, name: str) -> DBInstance:
    return DBInstance.objects.get(account=account, identifier=name)


def observe(instance: DBInstance, evidence: Evidence, at: datetime, status: str = "ok"):
    observation = Observation.objects.create(
        instance=instance,
        checked_at=at,
        status=status,
        evidence=evidence.to_dict(),
        dialed=evidence.dialed,
        verified_name=evidence.verified_name,
    )
    TargetState.objects.update_or_create(
        instance=instance,
        defaults={
            "latest": observation,
            "last_checked": at,
            "status": status,
            "last_ok_at": at if status == "ok" else None,
        },
    )
    return observation
