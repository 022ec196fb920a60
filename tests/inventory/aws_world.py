"""Builds AWS worlds for tests through the real boto3 client (moto answers, in-process).

Only the RDS calls an operator would make; what moto lacks comes from fleet.moto_rds.
"""

from __future__ import annotations

import boto3

DEFAULT_ACCOUNT = "123456789012"
SECOND_ACCOUNT = "222222222222"
AUDIT_ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/TlsPostureAudit"
AURORA_VERSION = "8.0.mysql_aurora.3.05.2"
# Static parameters only take effect after a reboot; AWS insists on saying so.
_STATIC = {"tls_version", "ssl_cipher", "tls_ciphersuites"}


class AwsWorld:
    def __init__(self, session: boto3.Session | None = None):
        self.session = session or boto3.Session()
        self._clients: dict[tuple[str, str], object] = {}

    @classmethod
    def assumed(cls, role_arn: str = AUDIT_ROLE) -> AwsWorld:
        """The world of the account a role lives in (moto maps assumed keys to it)."""
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=role_arn, RoleSessionName="test-setup"
        )["Credentials"]
        return cls(
            boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        )

    def client(self, service: str, region: str):
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=region)
        return self._clients[key]

    def rds(self, region: str = "us-east-1"):
        return self.client("rds", region)

    def group(self, name: str, family: str, region: str = "us-east-1", **values) -> str:
        self.rds(region).create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name
        )
        if values:
            self.set_parameters(name, region, **values)
        return name

    def set_parameters(self, group: str, region: str = "us-east-1", **values) -> None:
        self.rds(region).modify_db_parameter_group(
            DBParameterGroupName=group, Parameters=_parameters(values)
        )

    def cluster_group(self, name: str, family: str, region: str = "us-east-1", **values) -> str:
        rds = self.rds(region)
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=name, DBParameterGroupFamily=family, Description=name
        )
        if values:
            rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=name, Parameters=_parameters(values)
            )
        return name

    def instance(
        self,
        ident: str,
        *,
        engine: str = "mysql",
        version: str = "8.0.39",
        group: str | None = None,
        region: str = "us-east-1",
        **extra,
    ) -> str:
        params = {
            "DBInstanceIdentifier": ident,
            "DBInstanceClass": "db.t3.micro",
            "Engine": engine,
            "EngineVersion": version,
            **extra,
        }
        if group:
            params["DBParameterGroupName"] = group
        return self.rds(region).create_db_instance(**params)["DBInstance"]["DBInstanceArn"]

    def cluster(
        self,
        ident: str,
        *,
        members: int = 2,
        group: str | None = None,
        region: str = "us-east-1",
    ) -> str:
        rds = self.rds(region)
        params = {
            "DBClusterIdentifier": ident,
            "Engine": "aurora-mysql",
            "EngineVersion": AURORA_VERSION,
            "MasterUsername": "admin",
            "MasterUserPassword": "not-a-secret-1",
        }
        if group:
            params["DBClusterParameterGroupName"] = group
        arn = rds.create_db_cluster(**params)["DBCluster"]["DBClusterArn"]
        for n in range(1, members + 1):
            rds.create_db_instance(
                DBInstanceIdentifier=f"{ident}-{n}",
                DBInstanceClass="db.r6g.large",
                Engine="aurora-mysql",
                DBClusterIdentifier=ident,
            )
        return arn

    def proxy(
        self,
        name: str,
        *,
        require_tls: bool,
        engine_family: str = "MYSQL",
        clusters: tuple[str, ...] = (),
        instances: tuple[str, ...] = (),
        region: str = "us-east-1",
    ) -> str:
        subnets = [s["SubnetId"] for s in self.client("ec2", region).describe_subnets()["Subnets"]]
        rds = self.rds(region)
        arn = rds.create_db_proxy(
            DBProxyName=name,
            EngineFamily=engine_family,
            Auth=[
                {"AuthScheme": "SECRETS", "SecretArn": _secret_arn(region), "IAMAuth": "DISABLED"}
            ],
            RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/proxy",
            VpcSubnetIds=subnets[:2],
            RequireTLS=require_tls,
            Tags=[{"Key": "team", "Value": "platform"}],
        )["DBProxy"]["DBProxyArn"]
        if clusters or instances:
            rds.register_db_proxy_targets(
                DBProxyName=name,
                DBClusterIdentifiers=list(clusters),
                DBInstanceIdentifiers=list(instances),
            )
        return arn


def _parameters(values: dict) -> list[dict]:
    return [
        {
            "ParameterName": name,
            "ParameterValue": value,
            "ApplyMethod": "pending-reboot" if name in _STATIC else "immediate",
        }
        for name, value in values.items()
    ]


def _secret_arn(region: str) -> str:
    return f"arn:aws:secretsmanager:{region}:{DEFAULT_ACCOUNT}:secret:proxy-credentials"
