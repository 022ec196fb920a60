"""One region of one AWS account: its listings, then one InstanceFact per endpoint.

Calls per region: one paginated listing each of instances, clusters, proxies, pending
maintenance and certificates; per proxy its targets and tags; per parameter group and per
engine family what aws_parameters.py needs. Nothing is read once per instance.

A listing that fails raises (the region keeps its earlier data); a lookup whose absence can
be shown as "unknown" (CA list, a group's parameters, engine defaults, proxy tags) is
recorded with its reason and the region still syncs.
"""

from __future__ import annotations

from collections.abc import Callable

from inventory.facts import InstanceFact, RegionInventory
from inventory.sources import aws_mapping as m
from inventory.sources.aws_parameters import ParameterReader, ParameterSet, family_of

ENGINES = ("mysql", "mariadb", "aurora-mysql")
# Aurora MySQL clusters, and Multi-AZ DB clusters of RDS MySQL (their members also take TLS
# parameters from the cluster parameter group).
CLUSTER_ENGINES = ("aurora-mysql", "mysql")
PROXY_FAMILY = "MYSQL"


class RegionReader:
    def __init__(self, rds, region: str, describe: Callable[[Exception], str], api_errors):
        self.rds = rds
        self.region = region
        self.describe = describe
        self.api_errors = api_errors
        self.parameters = ParameterReader(rds, describe, api_errors)

    def read(self) -> RegionInventory:
        instances = self._all(
            "describe_db_instances",
            "DBInstances",
            Filters=[{"Name": "engine", "Values": list(ENGINES)}],
        )
        clusters = self._all(
            "describe_db_clusters",
            "DBClusters",
            Filters=[{"Name": "engine", "Values": list(CLUSTER_ENGINES)}],
        )
        proxies = [
            p
            for p in self._all("describe_db_proxies", "DBProxies")
            if p.get("EngineFamily") == PROXY_FAMILY
        ]
        pending = m.pending_actions_by_resource(
            self._all("describe_pending_maintenance_actions", "PendingMaintenanceActions")
        )
        cas, warnings = self._cas()

        world = _World(instances, clusters, pending)
        facts = [self._instance(db, world) for db in instances]
        facts += [self._cluster(cluster, world) for cluster in clusters]
        facts += [self._proxy(proxy, world) for proxy in proxies]
        return RegionInventory(
            region=self.region, instances=tuple(facts), cas=cas, warnings=tuple(warnings)
        )

    def _all(self, operation: str, key: str, **kwargs) -> list[dict]:
        found = []
        for page in self.rds.get_paginator(operation).paginate(**kwargs):
            found.extend(page.get(key) or ())
        return found

    def _cas(self):
        try:
            pages = list(self.rds.get_paginator("describe_certificates").paginate())
        except self.api_errors as exc:
            return (), [f"CA list could not be read: {self.describe(exc)}"]
        certificates = [c for page in pages for c in page.get("Certificates") or ()]
        defaults = [p.get("DefaultCertificateForNewLaunches") for p in pages]
        return m.cas(certificates, next((d for d in defaults if d), "")), []

    def _instance(self, db: dict, world: _World) -> InstanceFact:
        arn = db["DBInstanceArn"]
        ident = db["DBInstanceIdentifier"]
        host, port = m.endpoint(db)
        own_group = (db.get("DBParameterGroups") or [{}])[0]
        cluster_id = db.get("DBClusterIdentifier")
        extra = {"instance_class": db.get("DBInstanceClass")}
        if cluster_id:
            cluster = world.clusters.get(cluster_id)
            member = world.members.get(ident, {})
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
            role, parent = _replication(db, world)
            group = own_group.get("DBParameterGroupName", "")
            apply_status = own_group.get("ParameterApplyStatus", "")
            if group:
                params = self.parameters.for_group(
                    group, _family(db), cluster=False, apply_status=apply_status
                )
            else:
                params = _unknown("the instance reports no parameter group")
        errors = list(params.errors)
        _, not_after, cert_source = m.server_certificate(db)
        if not_after is None and host:
            errors.append(("server_certificate", "the API returned no CertificateDetails"))
        ca = db.get("CACertificateIdentifier", "")
        pending_ca = (db.get("PendingModifiedValues") or {}).get("CACertificateIdentifier", "")
        actions = world.pending.get(arn, ())
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

    def _cluster(self, cluster: dict, world: _World) -> InstanceFact:
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
        # Clients of the cluster endpoint meet the writer's certificate.
        writer_id = next(
            (x["DBInstanceIdentifier"] for x in members if x.get("IsClusterWriter")), ""
        )
        writer = world.instances.get(writer_id, {})
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
            pending_actions=world.pending.get(cluster["DBClusterArn"], ()),
            tags=m.tags(cluster),
            details=m.details(certificate_from=writer_id if certified is writer else None),
            lookup_errors=params.errors,
        )

    def _proxy(self, proxy: dict, world: _World) -> InstanceFact:
        name, arn = proxy["DBProxyName"], proxy["DBProxyArn"]
        targets = self._all("describe_db_proxy_targets", "Targets", DBProxyName=name)
        errors = []
        try:
            tag_list = self.rds.list_tags_for_resource(ResourceName=arn).get("TagList")
        except self.api_errors as exc:
            tag_list, errors = [], [("tags", self.describe(exc))]
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
                targets, world.instance_arns, world.cluster_arns
            ),
            tags=m.tags({"TagList": tag_list}),
            lookup_errors=tuple(errors),
        )


class _World:
    """The region's listings, indexed for the lookups facts need."""

    def __init__(self, instances: list[dict], clusters: list[dict], pending: dict):
        self.instances = {db["DBInstanceIdentifier"]: db for db in instances}
        self.instance_arns = {ident: db["DBInstanceArn"] for ident, db in self.instances.items()}
        self.clusters = {c["DBClusterIdentifier"]: c for c in clusters}
        self.cluster_arns = {ident: c["DBClusterArn"] for ident, c in self.clusters.items()}
        self.members = {
            member["DBInstanceIdentifier"]: member
            for cluster in clusters
            for member in cluster.get("DBClusterMembers") or ()
        }
        self.pending = pending


def _family(resource: dict) -> str:
    return family_of(resource.get("Engine", ""), resource.get("EngineVersion", ""))


def _unknown(reason: str) -> ParameterSet:
    return ParameterSet((), (("parameters", reason),))


def _replication(db: dict, world: _World) -> tuple[str, str]:
    """(role, parent ARN) of a standalone instance: replicas point at their source."""
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if source:
        return "replica", source if source.startswith("arn:") else world.instance_arns.get(
            source, ""
        )
    if db.get("ReadReplicaDBInstanceIdentifiers"):
        return "primary", ""
    return "", ""
