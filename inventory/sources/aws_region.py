"""One region of one AWS account: its listings, then one InstanceFact per endpoint.

Calls per region: one paginated listing each of instances, clusters, proxies, pending
maintenance and certificates; per proxy its targets and tags; per parameter group and per
engine family what aws_parameters.py needs. Nothing is read once per instance.

Only the instance listing is essential: when it fails the region fails and keeps its earlier
data. Every other lookup (docs/design.md "Evidence and precedence") degrades on any failure —
AccessDenied, throttling past the retries, an action the endpoint does not implement, a
body that does not parse, a timeout — to a region warning plus explicit unknowns on exactly
the facts it would have given (`InstanceFact.lookup_errors`, `RegionInventory.unlisted_kinds`),
and services.write_region keeps the earlier rows of what could not be read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from common.engines import parameter_group_family
from inventory.facts import InstanceFact, RegionInventory
from inventory.sources import aws_mapping as m
from inventory.sources.aws_parameters import ParameterReader, ParameterSet

ENGINES = ("mysql", "mariadb", "aurora-mysql")
# Aurora MySQL clusters, and Multi-AZ DB clusters of RDS MySQL (their members also take TLS
# parameters from the cluster parameter group).
CLUSTER_ENGINES = ("aurora-mysql", "mysql")
PROXY_FAMILY = "MYSQL"
# lookup_errors keys; services.write_region keeps the earlier rows each one stands for.
CLUSTER_UNREAD = "cluster"
PENDING_UNREAD = "pending_actions"
TARGETS_UNREAD = "targets"
TAGS_UNREAD = "tags"

log = logging.getLogger(__name__)


class _Failed:
    """An optional lookup that failed: why, in words a user can act on."""

    def __init__(self, operation: str, reason: str):
        self.operation, self.reason = operation, reason

    def __str__(self) -> str:
        return f"{self.operation} failed: {self.reason}"


class RegionReader:
    def __init__(self, rds, region: str, describe: Callable[[Exception], str], api_errors):
        self.rds = rds
        self.region = region
        self.describe = describe
        self.api_errors = api_errors
        self.parameters = ParameterReader(rds, describe, api_errors)

    def read(self) -> RegionInventory:
        # The one essential listing: its failure raises and fails the region.
        instances = self._all(
            "describe_db_instances",
            "DBInstances",
            Filters=[{"Name": "engine", "Values": list(ENGINES)}],
        )
        warnings: list[str] = []
        unlisted: set[str] = set()
        clusters = self._optional(
            "DescribeDBClusters",
            lambda: self._all(
                "describe_db_clusters",
                "DBClusters",
                Filters=[{"Name": "engine", "Values": list(CLUSTER_ENGINES)}],
            ),
        )
        if isinstance(clusters, _Failed):
            warnings.append(
                f"{clusters}; Aurora clusters keep their earlier data and their members' "
                "cluster parameters are unknown"
            )
            unlisted.add("cluster")
        proxies = self._optional(
            "DescribeDBProxies", lambda: self._all("describe_db_proxies", "DBProxies")
        )
        if isinstance(proxies, _Failed):
            warnings.append(f"{proxies}; RDS Proxies keep their earlier data")
            unlisted.add("proxy")
        else:
            proxies = [p for p in proxies if p.get("EngineFamily") == PROXY_FAMILY]
        pending = self._optional(
            "DescribePendingMaintenanceActions",
            lambda: m.pending_actions_by_resource(
                self._all("describe_pending_maintenance_actions", "PendingMaintenanceActions")
            ),
        )
        if isinstance(pending, _Failed):
            warnings.append(f"{pending}; pending CA rotations are unknown")
        cas = self._cas(warnings)

        listings = RegionListings(instances, clusters, pending)
        facts = [self._instance(db, listings) for db in instances]
        facts += [self._cluster(cluster, listings) for cluster in listings.cluster_list]
        facts += [self._proxy(proxy, listings) for proxy in listings.proxies(proxies)]
        warnings += self.parameters.warnings()
        warnings += _per_instance_warnings(facts, (TARGETS_UNREAD, TAGS_UNREAD))
        return RegionInventory(
            region=self.region,
            instances=tuple(facts),
            cas=cas,
            warnings=tuple(warnings),
            unlisted_kinds=frozenset(unlisted),
        )

    def _all(self, operation: str, key: str, **kwargs) -> list[dict]:
        found = []
        for page in self.rds.get_paginator(operation).paginate(**kwargs):
            found.extend(page.get(key) or ())
        return found

    def _optional(self, operation: str, read: Callable):
        """What `read()` returns, or _Failed: an optional lookup never fails the region."""
        try:
            return read()
        except self.api_errors as exc:
            return _Failed(operation, self.describe(exc))
        except Exception as exc:  # not the API's doing: a bug, shown and logged, not fatal
            log.exception("%s in %s failed unexpectedly", operation, self.region)
            return _Failed(operation, f"unexpected {type(exc).__name__}: {exc}"[:300])

    def _cas(self, warnings: list[str]):
        pages = self._optional(
            "DescribeCertificates",
            lambda: list(self.rds.get_paginator("describe_certificates").paginate()),
        )
        if isinstance(pages, _Failed):
            warnings.append(f"CA list could not be read: {pages.reason}")
            return ()
        certificates = [c for page in pages for c in page.get("Certificates") or ()]
        defaults = [p.get("DefaultCertificateForNewLaunches") for p in pages]
        return m.cas(certificates, next((d for d in defaults if d), ""))

    def _instance(self, db: dict, listings: RegionListings) -> InstanceFact:
        arn = db["DBInstanceArn"]
        ident = db["DBInstanceIdentifier"]
        host, port = m.endpoint(db)
        own_group = (db.get("DBParameterGroups") or [{}])[0]
        cluster_id = db.get("DBClusterIdentifier")
        extra = {"instance_class": db.get("DBInstanceClass")}
        unread: list[tuple[str, str]] = []
        if cluster_id and listings.clusters_failed:
            # Role, cluster and cluster parameter group stay as the last sync saw them.
            role = parent = group = apply_status = ""
            unread.append((CLUSTER_UNREAD, str(listings.clusters_failed)))
            extra["instance_parameter_group"] = own_group.get("DBParameterGroupName")
            params = _unknown(f"cluster {cluster_id}: {listings.clusters_failed}")
        elif cluster_id:
            cluster = listings.clusters.get(cluster_id)
            member = listings.members.get(ident, {})
            role = ("writer" if member.get("IsClusterWriter") else "reader") if member else ""
            parent = cluster["DBClusterArn"] if cluster else ""
            group = cluster.get("DBClusterParameterGroup", "") if cluster else ""
            apply_status = member.get("DBClusterParameterGroupStatus", "")
            extra["instance_parameter_group"] = own_group.get("DBParameterGroupName")
            if cluster:
                params = self.parameters.for_group(
                    group, _family(cluster), cluster=True, apply_status=apply_status
                )
            else:
                params = _unknown(f"cluster {cluster_id} is not among the region's clusters")
        else:
            role, parent = _replication(db, listings)
            group = own_group.get("DBParameterGroupName", "")
            apply_status = own_group.get("ParameterApplyStatus", "")
            if group:
                params = self.parameters.for_group(
                    group, _family(db), cluster=False, apply_status=apply_status
                )
            else:
                params = _unknown("the instance reports no parameter group")
        errors = unread + list(params.errors)
        _, not_after, cert_source = m.server_certificate(db)
        if not_after is None and host:
            errors.append(("server_certificate", "the API returned no CertificateDetails"))
        ca = db.get("CACertificateIdentifier", "")
        pending_ca = (db.get("PendingModifiedValues") or {}).get("CACertificateIdentifier", "")
        actions = listings.pending_for(arn, errors)
        if pending_ca:
            actions += (m.ca_change(ca, pending_ca),)
        return InstanceFact(
            kind="instance",
            identifier=ident,
            resource_id=arn,
            engine=db.get("Engine", ""),
            engine_version=db.get("EngineVersion", ""),
            status=db.get("DBInstanceStatus", ""),
            role=role,
            parent_resource_id=parent,
            endpoint_host=host,
            endpoint_port=port,
            parameter_group=group,
            parameter_group_is_default=m.is_default_group(group),
            parameter_apply_status=apply_status,
            parameters=params.facts,
            ca_identifier=ca,
            pending_ca_identifier=pending_ca,
            server_cert_not_after=not_after,
            server_cert_source=cert_source,
            publicly_accessible=db.get("PubliclyAccessible"),
            iam_auth_enabled=db.get("IAMDatabaseAuthenticationEnabled"),
            pending_actions=actions,
            tags=m.tags(db),
            details=m.details(**extra, dbi_resource_id=db.get("DbiResourceId")),
            lookup_errors=tuple(errors),
        )

    def _cluster(self, cluster: dict, listings: RegionListings) -> InstanceFact:
        members = cluster.get("DBClusterMembers") or []
        statuses = [s for s in (x.get("DBClusterParameterGroupStatus") for x in members) if s]
        # The cluster is only as applied as its least applied member.
        apply_status = next(
            (s for s in statuses if s != "in-sync"), statuses[0] if statuses else ""
        )
        group = cluster.get("DBClusterParameterGroup", "")
        params = self.parameters.for_group(
            group, _family(cluster), cluster=True, apply_status=apply_status
        )
        errors = list(params.errors)
        # Clients of the cluster endpoint meet the writer's certificate.
        writer_id = next(
            (x["DBInstanceIdentifier"] for x in members if x.get("IsClusterWriter")), ""
        )
        writer = listings.instances.get(writer_id, {})
        certified = cluster if cluster.get("CertificateDetails") else writer
        _, not_after, cert_source = m.server_certificate(certified)
        ca = (certified.get("CertificateDetails") or {}).get("CAIdentifier") or writer.get(
            "CACertificateIdentifier", ""
        )
        return InstanceFact(
            kind="cluster",
            identifier=cluster["DBClusterIdentifier"],
            resource_id=cluster["DBClusterArn"],
            engine=cluster.get("Engine", ""),
            engine_version=cluster.get("EngineVersion", ""),
            status=cluster.get("Status", ""),
            endpoint_host=cluster.get("Endpoint", ""),
            endpoint_port=cluster.get("Port"),
            reader_endpoint_host=cluster.get("ReaderEndpoint", ""),
            parameter_group=group,
            parameter_group_is_default=m.is_default_group(group),
            parameter_apply_status=apply_status,
            parameters=params.facts,
            ca_identifier=ca,
            server_cert_not_after=not_after,
            server_cert_source=cert_source,
            publicly_accessible=cluster.get("PubliclyAccessible"),
            iam_auth_enabled=cluster.get("IAMDatabaseAuthenticationEnabled"),
            pending_actions=listings.pending_for(cluster["DBClusterArn"], errors),
            tags=m.tags(cluster),
            details=m.details(certificate_from=writer_id if certified is writer else None),
            lookup_errors=tuple(errors),
        )

    def _proxy(self, proxy: dict, listings: RegionListings) -> InstanceFact:
        name, arn = proxy["DBProxyName"], proxy["DBProxyArn"]
        errors = []
        targets = self._optional(
            "DescribeDBProxyTargets",
            lambda: self._all("describe_db_proxy_targets", "Targets", DBProxyName=name),
        )
        if isinstance(targets, _Failed):
            targets, errors = [], [(TARGETS_UNREAD, str(targets))]
        tag_list = self._optional(
            "ListTagsForResource",
            lambda: self.rds.list_tags_for_resource(ResourceName=arn).get("TagList"),
        )
        if isinstance(tag_list, _Failed):
            tag_list, errors = [], [*errors, (TAGS_UNREAD, str(tag_list))]
        return InstanceFact(
            kind="proxy",
            identifier=name,
            resource_id=arn,
            engine=proxy.get("EngineFamily", ""),
            status=proxy.get("Status", ""),
            endpoint_host=proxy.get("Endpoint", ""),
            endpoint_port=m.PROXY_PORTS.get(proxy.get("EngineFamily", "")),
            proxy_require_tls=proxy.get("RequireTLS"),
            iam_auth_enabled=m.proxy_iam_auth(proxy),
            proxy_target_resource_ids=m.proxy_target_arns(
                targets, listings.instance_arns, listings.cluster_arns
            ),
            tags=m.tags({"TagList": tag_list}),
            lookup_errors=tuple(errors),
        )


class RegionListings:
    """The region's listings, indexed for the lookups facts need; a listing that failed is
    a _Failed, and what it would have given is unknown."""

    def __init__(self, instances: list[dict], clusters, pending):
        self.instances = {db["DBInstanceIdentifier"]: db for db in instances}
        self.instance_arns = {ident: db["DBInstanceArn"] for ident, db in self.instances.items()}
        self.clusters_failed = clusters if isinstance(clusters, _Failed) else None
        self.cluster_list = [] if self.clusters_failed else clusters
        self.clusters = {c["DBClusterIdentifier"]: c for c in self.cluster_list}
        self.cluster_arns = {ident: c["DBClusterArn"] for ident, c in self.clusters.items()}
        self.members = {
            member["DBInstanceIdentifier"]: member
            for cluster in self.cluster_list
            for member in cluster.get("DBClusterMembers") or ()
        }
        self.pending_failed = pending if isinstance(pending, _Failed) else None
        self.pending = {} if self.pending_failed else pending

    def pending_for(self, arn: str, errors: list[tuple[str, str]]) -> tuple:
        """The resource's pending CA rotations; when the listing failed, none are known and
        `errors` says why (the earlier rows stay)."""
        if self.pending_failed:
            errors.append((PENDING_UNREAD, str(self.pending_failed)))
        return self.pending.get(arn, ())

    @staticmethod
    def proxies(proxies) -> list[dict]:
        return [] if isinstance(proxies, _Failed) else proxies


def _family(resource: dict) -> str:
    return parameter_group_family(resource.get("Engine", ""), resource.get("EngineVersion", ""))


def _unknown(reason: str) -> ParameterSet:
    return ParameterSet((), (("parameters", reason),))


def _replication(db: dict, listings: RegionListings) -> tuple[str, str]:
    """(role, parent ARN) of a standalone instance: replicas point at their source."""
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if source:
        return "replica", source if source.startswith("arn:") else listings.instance_arns.get(
            source, ""
        )
    if db.get("ReadReplicaDBInstanceIdentifiers"):
        return "primary", ""
    return "", ""


def _per_instance_warnings(facts: list[InstanceFact], keys: tuple[str, ...]) -> list[str]:
    """One warning per kind of per-endpoint lookup that failed, with an example."""
    warnings = []
    for key in keys:
        failed = [
            (f.identifier, why) for f in facts for what, why in f.lookup_errors if what == key
        ]
        if failed:
            ident, why = failed[0]
            more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
            warnings.append(f"{key.replace('_', ' ')} of {ident}{more}: {why}")
    return warnings
