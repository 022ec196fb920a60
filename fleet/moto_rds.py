"""RDS behaviour that moto 5.2 lacks, added to moto's own RDS backend (tests, bench, demo).

`install()` patches moto in this process (idempotent); `python -m fleet.moto_server` serves
the same over HTTP. The real boto3 client still serialises every request and parses every
answer, so what is added here has to match AWS's wire shapes. Added or corrected:

- DescribeCertificates, DescribePendingMaintenanceActions, DescribeEngineDefaultParameters,
  DescribeEngineDefaultClusterParameters (values in fleet/moto_rds_catalogue.py);
- CertificateDetails and PendingModifiedValues.CACertificateIdentifier on instances, a CA
  change without ApplyImmediately stays pending, and new instances get the region's default
  CA instead of moto's fictitious "rds-ca-default";
- DescribeDB(Cluster)Parameters list the family's TLS parameters, report Source, honour the
  parameter-name filter and answer for default groups, which cannot be modified;
- ParameterApplyStatus / DBClusterParameterGroupStatus become pending-reboot after a
  pending-reboot change and in-sync again after RebootDBInstance;
- AWS's default parameter group names for Aurora MySQL.

Seeding helpers shape a world (CAs, pending actions, server certificate expiry, many instances
at once) and `inject_fault` makes chosen calls fail or stall like AWS does (AccessDenied,
Throttling, a slow answer). Everything lives on moto's per-account, per-region backend, so
moto's reset clears it.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from botocore import xform_name
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, PaginatedResult
from moto.rds.exceptions import DBParameterGroupNotFoundError, RDSClientError
from moto.rds.models import DBCluster, DBInstance, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from common.engines import parameter_group_family
from fleet.moto_rds_catalogue import (
    DEFAULT_CA,
    RETIRED_CA_VALID_TILL,
    SERVER_CERT_DAYS,
    current_certificates,
    tls_defaults,
)

MYSQL_FAMILY = ("mysql", "mariadb", "aurora-mysql")
_lock = threading.Lock()
# Slow answers still being held back. A client that timed out has gone, but its answer is
# still drawn (request ids from moto's seeded generator): a reset waits for these first, so
# what a test does after a reset is never interleaved with a previous test's late answer.
_delayed_answers = threading.Condition()
_delayed_in_flight = 0
_installed = False


@dataclass
class Fault:
    action: str  # an RDS action name such as DescribeDBInstances, or "*"
    code: str = ""  # error code to answer with; empty: answer normally (after the delay)
    message: str = ""
    status: int = 400
    delay: float = 0.0
    times: int | None = None  # None: every matching call
    html: bool = False  # answer an HTML error page (a proxy in the way, moto's own 500)


@dataclass
class RegionWorld:
    """What this extension adds to one account's region."""

    certificates: list[dict] = field(default_factory=current_certificates)
    default_ca: str = DEFAULT_CA
    pending_actions: dict[str, list[dict]] = field(default_factory=dict)  # ARN → details
    server_cert_valid_till: dict[str, datetime] = field(default_factory=dict)
    pending_ca: dict[str, str] = field(default_factory=dict)
    pending_reboot: set[str] = field(default_factory=set)  # instance group changes
    cluster_pending_reboot: set[str] = field(default_factory=set)  # cluster group changes
    faults: list[Fault] = field(default_factory=list)


def world_of(backend: RDSBackend) -> RegionWorld:
    existing = backend.__dict__.get("_tlsposture_world")
    if existing is not None:
        return existing
    with _lock:
        return backend.__dict__.setdefault("_tlsposture_world", RegionWorld())


def world(account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> RegionWorld:
    return world_of(rds_backends[account_id][region])


def _aware(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---- seeding ----------------------------------------------------------------------------


def set_certificates(
    account_id: str,
    region: str,
    certificates: list[dict],
    default_for_new_launches: str | None = None,
) -> None:
    """Replace the region's CA list (DescribeCertificates entries, dates may be ISO text)."""
    entries = []
    for cert in certificates:
        entry = {"CertificateType": "CA", "CustomerOverride": False, **cert}
        for key in ("ValidFrom", "ValidTill", "CustomerOverrideValidTill"):
            if key in entry:
                entry[key] = _aware(entry[key])
        entries.append(entry)
    region_world = world(account_id, region)
    region_world.certificates = entries
    if default_for_new_launches is not None:
        region_world.default_ca = default_for_new_launches


def add_pending_maintenance_action(
    account_id: str,
    region: str,
    resource_arn: str,
    *,
    action: str = "ca-certificate-rotation",
    description: str = "",
    auto_applied_after: Any = None,
    forced_apply_date: Any = None,
    current_apply_date: Any = None,
    opt_in_status: str = "pending",
) -> None:
    detail = {
        "Action": action,
        "Description": description or _ACTION_DESCRIPTIONS.get(action, ""),
        "AutoAppliedAfterDate": _aware(auto_applied_after),
        "ForcedApplyDate": _aware(forced_apply_date),
        "CurrentApplyDate": _aware(current_apply_date),
        "OptInStatus": opt_in_status,
    }
    detail = {k: v for k, v in detail.items() if v not in (None, "")}
    world(account_id, region).pending_actions.setdefault(resource_arn, []).append(detail)


_ACTION_DESCRIPTIONS = {
    "ca-certificate-rotation": "Certificate Rotation",
}


def set_server_certificate_expiry(
    account_id: str, region: str, instance_id: str, valid_till: Any
) -> None:
    world(account_id, region).server_cert_valid_till[instance_id.lower()] = _aware(valid_till)


def create_db_instances(account_id: str, region: str, instances: list[dict]) -> int:
    """Create many instances at once from CreateDBInstance parameters (PascalCase)."""
    backend = rds_backends[account_id][region]
    for params in instances:
        kwargs = {xform_name(key): value for key, value in params.items()}
        kwargs.setdefault("db_instance_class", "db.t3.micro")
        backend.create_db_instance(kwargs)
    return len(instances)


def inject_fault(
    account_id: str,
    region: str,
    action: str = "*",
    *,
    code: str = "",
    message: str = "",
    status: int = 400,
    delay: float = 0.0,
    times: int | None = None,
    html: bool = False,
) -> None:
    """Make matching RDS calls in one region fail with `code` (as an HTML page with `html`),
    or answer after `delay`."""
    fault = Fault(action, code, message, status, delay, times, html)
    world(account_id, region).faults.append(fault)


def clear_faults(account_id: str, region: str) -> None:
    world(account_id, region).faults.clear()


SEEDERS = {
    "set_certificates": set_certificates,
    "add_pending_maintenance_action": add_pending_maintenance_action,
    "set_server_certificate_expiry": set_server_certificate_expiry,
    "create_db_instances": create_db_instances,
    "inject_fault": inject_fault,
    "clear_faults": clear_faults,
}


# ---- model additions --------------------------------------------------------------------


def _ca_valid_till(region_world: RegionWorld, ca: str) -> datetime | None:
    for cert in region_world.certificates:
        if cert["CertificateIdentifier"] == ca:
            return cert.get("ValidTill")
    return RETIRED_CA_VALID_TILL.get(ca)


def _server_cert_until(region_world: RegionWorld, ca: str, issued: datetime) -> datetime:
    until = issued + timedelta(days=SERVER_CERT_DAYS)
    ca_till = _ca_valid_till(region_world, ca)
    return min(until, ca_till) if ca_till else until


def _certificate_details(db: DBInstance) -> dict:
    region_world = world_of(db.backend)
    ca = db.ca_certificate_identifier
    valid_till = region_world.server_cert_valid_till.get(db.db_instance_identifier)
    if valid_till is None:
        valid_till = _server_cert_until(region_world, ca, _aware(db.created))
    return {"CAIdentifier": ca, "ValidTill": valid_till}


def _pending_modified_values(db: DBInstance) -> dict | None:
    ca = world_of(db.backend).pending_ca.get(db.db_instance_identifier)
    return {"CACertificateIdentifier": ca} if ca else None


_original_group_status = DBInstance.db_parameter_group_status_list.fget
_original_group_details = DBInstance.default_db_parameter_group_details
_original_cluster_members = DBCluster.db_cluster_members.fget


def _group_status_list(db: DBInstance) -> list[dict]:
    pending = db.db_instance_identifier in world_of(db.backend).pending_reboot
    return [
        {
            "DBParameterGroupName": group.name,
            "ParameterApplyStatus": "pending-reboot" if pending else "in-sync",
        }
        for group in _original_group_status(db)
    ]


def _default_group_details(db: DBInstance) -> tuple[str, str]:
    if db.engine not in MYSQL_FAMILY:
        return _original_group_details(db)
    family = parameter_group_family(db.engine, str(db.engine_version))
    return family, f"default.{family}"


def _cluster_members(cluster: DBCluster) -> list[dict]:
    pending = world_of(cluster.backend).cluster_pending_reboot
    members = _original_cluster_members(cluster)
    for member in members:
        if member["DBInstanceIdentifier"] in pending:
            member["DBClusterParameterGroupStatus"] = "pending-reboot"
    return members


_original_create_instance = RDSBackend.create_db_instance
_original_create_cluster = RDSBackend.create_db_cluster


def _create_db_instance(backend: RDSBackend, db_kwargs: dict) -> DBInstance:
    if not db_kwargs.get("ca_certificate_identifier"):
        db_kwargs["ca_certificate_identifier"] = world_of(backend).default_ca
    return _original_create_instance(backend, db_kwargs)


def _create_db_cluster(backend: RDSBackend, kwargs: dict) -> DBCluster:
    if kwargs.get("engine") == "aurora-mysql" and not kwargs.get("db_cluster_parameter_group_name"):
        version = kwargs.get("engine_version") or DBCluster.default_engine_version("aurora-mysql")
        kwargs["db_cluster_parameter_group_name"] = (
            f"default.{parameter_group_family('aurora-mysql', version)}"
        )
    return _original_create_cluster(backend, kwargs)


# ---- actions moto lacks -----------------------------------------------------------------


def _describe_certificates(self: RDSResponse) -> ActionResult:
    region_world = world_of(self.backend)
    wanted = self.params.get("CertificateIdentifier")
    certs = [
        dict(c)
        for c in region_world.certificates
        if not wanted or c["CertificateIdentifier"] == wanted
    ]
    if wanted and not certs:
        raise RDSClientError("CertificateNotFound", f"CertificateIdentifier {wanted} not found.")
    return PaginatedResult(
        {"Certificates": certs, "DefaultCertificateForNewLaunches": region_world.default_ca}
    )


def _arn_matches(arn: str, filters: dict[str, list[str]]) -> bool:
    kind, _, name = arn.rpartition(":")
    kind = kind.rsplit(":", 1)[-1]
    for filter_name, resource_kind in (("db-instance-id", "db"), ("db-cluster-id", "cluster")):
        values = filters.get(filter_name)
        if values is not None and not (kind == resource_kind and (arn in values or name in values)):
            return False
    return True


def _describe_pending_maintenance_actions(self: RDSResponse) -> ActionResult:
    resource = self.params.get("ResourceIdentifier")
    filters = {f["Name"]: list(f["Values"]) for f in self.params.get("Filters", [])}
    entries = [
        {
            "ResourceIdentifier": arn,
            "PendingMaintenanceActionDetails": [dict(d) for d in details],
        }
        for arn, details in world_of(self.backend).pending_actions.items()
        if details and (not resource or arn == resource) and _arn_matches(arn, filters)
    ]
    return PaginatedResult({"PendingMaintenanceActions": entries})


def _by_name(entries: list[dict], params) -> list[dict]:
    names = None
    for f in params.get("Filters", []):
        if f["Name"] == "parameter-name":
            names = set(f["Values"])
    source = params.get("Source")
    return [
        e
        for e in entries
        if (names is None or e["ParameterName"] in names)
        and (not source or e.get("Source") == source)
    ]


def _describe_engine_default(self: RDSResponse, *, cluster: bool) -> ActionResult:
    family = self.params.get("DBParameterGroupFamily")
    entries = tls_defaults(family, cluster=cluster)
    if not cluster:  # AWS ignores filters on the cluster variant
        entries = _by_name(entries, self.params)
    return PaginatedResult(
        {"EngineDefaults": {"DBParameterGroupFamily": family, "Parameters": entries}}
    )


def _describe_engine_default_parameters(self: RDSResponse) -> ActionResult:
    return _describe_engine_default(self, cluster=False)


def _describe_engine_default_cluster_parameters(self: RDSResponse) -> ActionResult:
    return _describe_engine_default(self, cluster=True)


def _group_listing(family: str, stored: dict, *, cluster: bool) -> list[dict]:
    """A group's parameters as AWS lists them: every known one, values only where set."""
    listing = {
        e["ParameterName"]: {k: v for k, v in e.items() if k != "ParameterValue"}
        for e in tls_defaults(family, cluster=cluster)
    }
    for name, values in stored.items():
        entry = listing.setdefault(name, {"ParameterName": name})
        entry.update(values)
        entry["Source"] = "user"
    return list(listing.values())


def _find_group(groups: dict, name: str):
    return groups.get(name) or groups.get(name.lower())


def _describe_db_parameters(self: RDSResponse) -> ActionResult:
    name = self.params.get("DBParameterGroupName")
    group = _find_group(self.backend.db_parameter_groups, name)
    if group is not None:
        family, stored = group.family, group.parameters
    elif name.lower().startswith("default."):
        family, stored = name.lower().removeprefix("default."), {}
    else:
        raise DBParameterGroupNotFoundError(name)
    entries = _by_name(_group_listing(family, stored, cluster=False), self.params)
    return PaginatedResult({"Parameters": entries})


def _describe_db_cluster_parameters(self: RDSResponse) -> ActionResult:
    name = self.params.get("DBClusterParameterGroupName")
    group = _find_group(self.backend.db_cluster_parameter_groups, name)
    if group is not None:
        family, stored = group.db_parameter_group_family, group.parameters
    elif name.lower().startswith("default."):
        family, stored = name.lower().removeprefix("default."), {}
    else:
        raise DBParameterGroupNotFoundError(name)
    entries = _by_name(_group_listing(family, stored, cluster=True), self.params)
    return PaginatedResult({"Parameters": entries})


def _refuse_default(name: str) -> None:
    if name and name.lower().startswith("default."):
        raise RDSClientError(
            "InvalidParameterValue",
            f"The parameter group {name} is a default parameter group and cannot be modified.",
        )


def _wants_reboot(params) -> bool:
    return any(p.get("ApplyMethod") == "pending-reboot" for p in params.get("Parameters", []))


_original_modify_group = RDSResponse.modify_db_parameter_group
_original_modify_cluster_group = RDSResponse.modify_db_cluster_parameter_group
_original_modify_instance = RDSResponse.modify_db_instance
_original_reboot = RDSResponse.reboot_db_instance
_original_call_action = RDSResponse.call_action


def _modify_db_parameter_group(self: RDSResponse) -> ActionResult:
    name = self.params.get("DBParameterGroupName")
    _refuse_default(name)
    result = _original_modify_group(self)
    if _wants_reboot(self.params):
        world_of(self.backend).pending_reboot.update(
            ident
            for ident, db in self.backend.databases.items()
            if (db.db_parameter_group_name or "").lower() == name.lower()
        )
    return result


def _modify_db_cluster_parameter_group(self: RDSResponse) -> ActionResult:
    name = self.params.get("DBClusterParameterGroupName")
    _refuse_default(name)
    result = _original_modify_cluster_group(self)
    if _wants_reboot(self.params):
        members = world_of(self.backend).cluster_pending_reboot
        for cluster in self.backend.clusters.values():
            if cluster.parameter_group.lower() == name.lower():
                members.update(m.db_instance_identifier for m in cluster._members)
    return result


def _modify_db_instance(self: RDSResponse) -> ActionResult:
    ca = self.params.get("CACertificateIdentifier")
    ident = (self.params.get("DBInstanceIdentifier") or "").lower()
    region_world = world_of(self.backend)
    if ca and not self.params.get("ApplyImmediately"):
        # AWS applies a CA change in the next maintenance window unless told otherwise.
        del self.params["CACertificateIdentifier"]
        region_world.pending_ca[ident] = ca
    elif ca:
        region_world.pending_ca.pop(ident, None)
        region_world.server_cert_valid_till[ident] = _server_cert_until(
            region_world, ca, datetime.now(UTC)
        )
        db = self.backend.databases.get(ident)
        if db is not None:
            actions = region_world.pending_actions.get(db.db_instance_arn, [])
            actions[:] = [a for a in actions if a["Action"] != "ca-certificate-rotation"]
    return _original_modify_instance(self)


def _reboot_db_instance(self: RDSResponse) -> ActionResult:
    result = _original_reboot(self)
    ident = (self.params.get("DBInstanceIdentifier") or "").lower()
    region_world = world_of(self.backend)
    region_world.pending_reboot.discard(ident)
    region_world.cluster_pending_reboot.discard(ident)
    return result


def _take_fault(self: RDSResponse) -> Fault | None:
    region_world = world_of(rds_backends[self.current_account][self.region])
    action = self._get_action()
    with _lock:
        for fault in region_world.faults:
            if fault.action in ("*", action) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                return fault
    return None


def _call_action(self: RDSResponse):
    fault = _take_fault(self) if self.region else None
    if fault is not None and fault.delay:
        with _answer_held_back():
            time.sleep(fault.delay)
            return _faulty_answer(self, fault)
    return _faulty_answer(self, fault)


def _faulty_answer(self: RDSResponse, fault: Fault | None):
    if fault is not None:
        if fault.html:
            page = f"<!doctype html><html><title>{fault.status} {escape(fault.code)}</title></html>"
            return fault.status, {"Content-Type": "text/html"}, page
        if fault.code:
            return fault.status, {"Content-Type": "text/xml"}, _error_body(fault)
    return _original_call_action(self)


@contextmanager
def _answer_held_back():
    global _delayed_in_flight
    with _delayed_answers:
        _delayed_in_flight += 1
    try:
        yield
    finally:
        with _delayed_answers:
            _delayed_in_flight -= 1
            _delayed_answers.notify_all()


def wait_for_delayed_answers(timeout: float = 30.0) -> bool:
    """Block until no slow answer is held back (True), or `timeout` passed (False)."""
    with _delayed_answers:
        return _delayed_answers.wait_for(lambda: _delayed_in_flight == 0, timeout)


def _error_body(fault: Fault) -> str:
    # The query-protocol error document, as AWS sends it for IAM and throttling errors.
    return (
        '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error>'
        f"<Type>Sender</Type><Code>{escape(fault.code)}</Code>"
        f"<Message>{escape(fault.message or fault.code)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def install() -> None:
    """Add the missing RDS behaviour to moto in this process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        DBInstance.certificate_details = property(_certificate_details)
        DBInstance.pending_modified_values = property(_pending_modified_values)
        DBInstance.db_parameter_group_status_list = property(_group_status_list)
        DBInstance.default_db_parameter_group_details = _default_group_details
        DBCluster.db_cluster_members = property(_cluster_members)
        RDSBackend.create_db_instance = _create_db_instance
        RDSBackend.create_db_cluster = _create_db_cluster
        RDSResponse.describe_certificates = _describe_certificates
        RDSResponse.describe_pending_maintenance_actions = _describe_pending_maintenance_actions
        RDSResponse.describe_engine_default_parameters = _describe_engine_default_parameters
        RDSResponse.describe_engine_default_cluster_parameters = (
            _describe_engine_default_cluster_parameters
        )
        RDSResponse.describe_db_parameters = _describe_db_parameters
        RDSResponse.describe_db_cluster_parameters = _describe_db_cluster_parameters
        RDSResponse.modify_db_parameter_group = _modify_db_parameter_group
        RDSResponse.modify_db_cluster_parameter_group = _modify_db_cluster_parameter_group
        RDSResponse.modify_db_instance = _modify_db_instance
        RDSResponse.reboot_db_instance = _reboot_db_instance
        RDSResponse.call_action = _call_action
        _installed = True
