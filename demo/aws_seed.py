"""Seed the AWS side of the demo world into a moto server, through the real boto3 client.

Only calls an operator would make (parameter groups, instances, an Aurora cluster, an RDS
Proxy, a reboot-pending change), plus fleet.moto_rds's seeders for what AWS decides by
itself (pending CA rotations, server certificate expiry). The second account is reached
the way tlsposture reaches it: by assuming a role through STS, which moto maps to the
role's account.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import boto3

from demo.world import ACCOUNTS, Account, Database, ParameterGroup, databases_in, groups_in
from fleet.moto_server import seed, seed_random

# Resource ids (cluster and proxy endpoint names among them) come from moto's random
# generator: seeding it makes every demo run build the same names, so the certificates
# minted for them on the first run stay valid.
RANDOM_SEED = 1129
AWS_ACCESS_KEY_ID = "demo-access-key"  # moto accepts any key; not a credential anywhere
STATIC_PARAMETERS = {"tls_version", "ssl_cipher", "tls_ciphersuites"}
AURORA_INSTANCE_CLASS = "db.r6g.large"
INSTANCE_CLASS = "db.t3.micro"


def base_credentials() -> dict[str, str]:
    """What the demo's AWS commands authenticate with: moto's default account. moto checks
    no secret; a random one keeps anything secret-shaped out of the code."""
    return {
        "aws_access_key_id": AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": secrets.token_urlsafe(16),
    }


class AccountSeeder:
    """Creates one account's databases in every region of it."""

    def __init__(self, url: str, account: Account, session: boto3.Session):
        self.url = url
        self.account = account
        self.session = session

    def client(self, service: str, region: str):
        return self.session.client(service, region_name=region, endpoint_url=self.url)

    def seed(self) -> dict[str, tuple[str, ...]]:
        endpoints: dict[str, tuple[str, ...]] = {}
        for region in self.account.regions:
            endpoints.update(self._seed_region(region))
        return endpoints

    def _seed_region(self, region: str) -> dict[str, tuple[str, ...]]:
        rds = self.client("rds", region)
        groups = groups_in(self.account, region)
        for group in groups:
            _create_group(rds, group)
        databases = databases_in(self.account, region)
        arns = {}
        for db in (d for d in databases if d.kind == "instance"):
            arns[db.identifier] = _create_instance(rds, db)
        for db in (d for d in databases if d.kind == "cluster"):
            _create_cluster(rds, db)
        for db in (d for d in databases if d.kind == "proxy"):
            self._create_proxy(rds, region, db)
        # Changed once the instances run: these wait for the next reboot.
        for group in groups:
            if group.pending_reboot:
                _modify_group(rds, group, group.pending_reboot)
        for db in databases:
            if db.pending_ca_rotation:
                self._pending_rotation(region, arns[db.identifier])
        return _endpoints(rds, databases)

    def _create_proxy(self, rds, region: str, db: Database) -> None:
        subnets = self.client("ec2", region).describe_subnets()["Subnets"]
        rds.create_db_proxy(
            DBProxyName=db.identifier,
            EngineFamily="MYSQL",
            Auth=[
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": self._arn("secretsmanager", region, f"secret:{db.identifier}"),
                    "IAMAuth": "DISABLED",
                }
            ],
            RoleArn=self._arn("iam", "", f"role/{db.identifier}-secrets"),
            VpcSubnetIds=[s["SubnetId"] for s in subnets[:2]],
            RequireTLS=bool(db.require_tls),
        )
        rds.register_db_proxy_targets(
            DBProxyName=db.identifier, DBInstanceIdentifiers=list(db.proxy_targets)
        )

    def _pending_rotation(self, region: str, arn: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        seed(
            self.url,
            "add_pending_maintenance_action",
            account_id=self.account.account_id,
            region=region,
            resource_arn=arn,
            action="ca-certificate-rotation",
            auto_applied_after=now + timedelta(days=21),
            forced_apply_date=now + timedelta(days=45),
        )

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{self.account.account_id}:{resource}"


def _parameters(values: dict[str, str]) -> list[dict]:
    return [
        {
            "ParameterName": name,
            "ParameterValue": value,
            # AWS refuses `immediate` for static parameters.
            "ApplyMethod": "pending-reboot" if name in STATIC_PARAMETERS else "immediate",
        }
        for name, value in values.items()
    ]


def _create_group(rds, group: ParameterGroup) -> None:
    if group.cluster:
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=group.name,
            DBParameterGroupFamily=group.family,
            Description=f"demo: {group.name}",
        )
    else:
        rds.create_db_parameter_group(
            DBParameterGroupName=group.name,
            DBParameterGroupFamily=group.family,
            Description=f"demo: {group.name}",
        )
    _modify_group(rds, group, group.values)


def _modify_group(rds, group: ParameterGroup, values: dict[str, str]) -> None:
    if group.cluster:
        rds.modify_db_cluster_parameter_group(
            DBClusterParameterGroupName=group.name, Parameters=_parameters(values)
        )
    else:
        rds.modify_db_parameter_group(
            DBParameterGroupName=group.name, Parameters=_parameters(values)
        )


def _create_instance(rds, db: Database, **extra) -> str:
    params = {
        "DBInstanceIdentifier": db.identifier,
        "DBInstanceClass": INSTANCE_CLASS,
        "Engine": db.engine,
        "EngineVersion": db.engine_version,
        "CACertificateIdentifier": db.ca,
        "Tags": [{"Key": "demo", "Value": db.server or "no-network-path"}],
        **extra,
    }
    if db.parameter_group:
        params["DBParameterGroupName"] = db.parameter_group
    return rds.create_db_instance(**params)["DBInstance"]["DBInstanceArn"]


def _create_cluster(rds, db: Database) -> None:
    rds.create_db_cluster(
        DBClusterIdentifier=db.identifier,
        Engine=db.engine,
        EngineVersion=db.engine_version,
        DBClusterParameterGroupName=db.parameter_group,
        MasterUsername="admin",
        MasterUserPassword=secrets.token_urlsafe(16),
    )
    for member in db.members:
        rds.create_db_instance(
            DBInstanceIdentifier=member,
            DBInstanceClass=AURORA_INSTANCE_CLASS,
            Engine=db.engine,
            DBClusterIdentifier=db.identifier,
            CACertificateIdentifier=db.ca,
        )


def _endpoints(rds, databases: list[Database]) -> dict[str, tuple[str, ...]]:
    """Endpoint names per identifier, as the API reports them."""
    found: dict[str, tuple[str, ...]] = {}
    for instance in rds.describe_db_instances()["DBInstances"]:
        found[instance["DBInstanceIdentifier"]] = (instance["Endpoint"]["Address"],)
    for cluster in rds.describe_db_clusters()["DBClusters"]:
        found[cluster["DBClusterIdentifier"]] = (cluster["Endpoint"], cluster["ReaderEndpoint"])
    for proxy in rds.describe_db_proxies()["DBProxies"]:
        found[proxy["DBProxyName"]] = (proxy["Endpoint"],)
    wanted = {name for db in databases for name in db.endpoints}
    return {name: names for name, names in found.items() if name in wanted}


def account_session(url: str, account: Account, base: dict[str, str]) -> boto3.Session:
    if not account.role_arn:
        return boto3.Session(**base)
    sts = boto3.client("sts", region_name=account.regions[0], endpoint_url=url, **base)
    answer = sts.assume_role(RoleArn=account.role_arn, RoleSessionName="tlsposture-demo-seed")
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def seed_aws(url: str, base: dict[str, str]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Build every AWS account of the world in the (empty) moto server at `url`.

    Returns the endpoint names per (account name, endpoint identifier).
    """
    seed_random(url, RANDOM_SEED)
    endpoints = {}
    for account in (a for a in ACCOUNTS if a.provider == "aws"):
        seeder = AccountSeeder(url, account, account_session(url, account, base))
        for identifier, names in seeder.seed().items():
            endpoints[(account.name, identifier)] = names
    return endpoints


def record_server_certificates(url: str, not_after: dict[str, datetime]) -> None:
    """Make each instance's CertificateDetails.ValidTill what its demo server presents.

    `not_after`: server name → the end of its certificate.
    """
    for account in (a for a in ACCOUNTS if a.provider == "aws"):
        for db in databases_in(account):
            if db.kind == "proxy" or db.server not in not_after:
                continue
            # A cluster has no certificate of its own: its members do.
            for identifier in db.members or (db.identifier,):
                seed(
                    url,
                    "set_server_certificate_expiry",
                    account_id=account.account_id,
                    region=db.region,
                    instance_id=identifier,
                    valid_till=not_after[db.server],
                )
