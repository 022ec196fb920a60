"""Sync N AWS instances (default 2,000) from a moto server; print seconds, calls, memory.

    .venv/bin/python bench/sync_aws.py [--instances N] [--regions R]

Starts `python -m fleet.moto_server` in its own process and seeds it (parameter groups,
Aurora clusters, standalone RDS MySQL/MariaDB instances, one proxy per region), then runs
`sync_account` in this process against a throwaway SQLite database: once to create
everything, once more when nothing changed. Figures only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNT_ID = "123456789012"
ALL_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1"]
GROUPS_PER_REGION = 5
CLUSTER_SHARE = 10  # one instance in ten is an Aurora member (two per cluster)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=2, choices=range(1, len(ALL_REGIONS) + 1))
    args = parser.parse_args()
    regions = ALL_REGIONS[: args.regions]

    data_dir = tempfile.TemporaryDirectory(prefix="tlsposture-bench-")
    _environment(data_dir.name)
    server = subprocess.Popen(
        [sys.executable, "-m", "fleet.moto_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        # moto takes an automated snapshot of every new instance and stops at 1,000 a region.
        env={**os.environ, "MOTO_RDS_SNAPSHOT_LIMIT": str(10 * args.instances + 1000)},
    )
    try:
        url = server.stdout.readline().strip()
        seeded = time.perf_counter()
        endpoints = _seed(url, regions, args.instances)
        print(
            f"seeded {endpoints:,} endpoints in {len(regions)} regions at {url} "
            f"({time.perf_counter() - seeded:.1f} s)"
        )
        _bench(url, regions, args.instances)
    finally:
        server.terminate()
        server.wait(timeout=10)
        data_dir.cleanup()
    return 0


def _environment(data_dir: str) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tlsposture.settings",
        DEBUG="1",
        SECRET_KEY=secrets.token_urlsafe(40),
        TLSPOSTURE_DATA_DIR=data_dir,
        LOG_LEVEL="WARNING",
        # moto accepts any key pair; this one is not a credential of anything.
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench-not-a-secret",  # noqa: S106
        AWS_CONFIG_FILE=os.path.join(data_dir, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(data_dir, "no-aws-credentials"),
    )


def _seed(url: str, regions: list[str], instances: int) -> int:
    import boto3

    endpoints = 0
    for index, region in enumerate(regions):
        share = instances // len(regions) + (1 if index < instances % len(regions) else 0)
        rds = boto3.client("rds", region_name=region, endpoint_url=url)
        members = share // CLUSTER_SHARE // 2 * 2
        _groups(rds)
        _clusters(rds, members // 2)
        _instances(url, region, members, share - members)
        _proxy(rds, boto3.client("ec2", region_name=region, endpoint_url=url), region, members)
        endpoints += share + members // 2 + 1
    return endpoints


def _groups(rds) -> None:
    for n in range(GROUPS_PER_REGION):
        name = f"app-{n}"
        rds.create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily="mysql8.0", Description="app"
        )
        enforce = {"ParameterName": "require_secure_transport", "ParameterValue": str(n % 2)}
        rds.modify_db_parameter_group(
            DBParameterGroupName=name, Parameters=[{**enforce, "ApplyMethod": "immediate"}]
        )


def _clusters(rds, count: int) -> None:
    for c in range(count):
        rds.create_db_cluster(
            DBClusterIdentifier=f"aurora-{c}",
            Engine="aurora-mysql",
            EngineVersion="8.0.mysql_aurora.3.05.2",
            MasterUsername="admin",
            MasterUserPassword="bench-only-1",
        )


def _instances(url: str, region: str, members: int, standalone: int) -> None:
    from fleet.moto_server import seed

    batch = [
        {
            "DBInstanceIdentifier": f"aurora-{i // 2}-{i % 2}",
            "DBInstanceClass": "db.r6g.large",
            "Engine": "aurora-mysql",
            "DBClusterIdentifier": f"aurora-{i // 2}",
        }
        for i in range(members)
    ]
    for i in range(standalone):
        instance = {"DBInstanceIdentifier": f"db-{i:05}"}
        if i % 7 == 0:  # MariaDB 11.8 on its default group
            instance.update(Engine="mariadb", EngineVersion="11.8.2")
        else:
            group = f"app-{i % GROUPS_PER_REGION}"
            instance.update(Engine="mysql", EngineVersion="8.0.39", DBParameterGroupName=group)
        batch.append(instance)
    for start in range(0, len(batch), 500):
        chunk = batch[start : start + 500]
        seed(url, "create_db_instances", account_id=ACCOUNT_ID, region=region, instances=chunk)


def _proxy(rds, ec2, region: str, members: int) -> None:
    secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:bench"
    rds.create_db_proxy(
        DBProxyName="app-proxy",
        EngineFamily="MYSQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret, "IAMAuth": "DISABLED"}],
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/proxy",
        VpcSubnetIds=[s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2],
        RequireTLS=True,
    )
    if members:
        rds.register_db_proxy_targets(DBProxyName="app-proxy", DBClusterIdentifiers=["aurora-0"])


def _bench(url: str, regions: list[str], instances: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from inventory.models import CloudAccount
    from inventory.services import sync_account

    call_command("migrate", verbosity=0)
    account = CloudAccount.objects.create(
        name="bench", provider="aws", regions=regions, endpoint_url=url
    )
    before = _peak_mb()
    for label in ("first sync (creates)", "second sync (no change)"):
        started = time.perf_counter()
        run = sync_account(account, trigger="bench")
        seconds = time.perf_counter() - started
        print(
            f"{label}: {seconds:.1f} s, {run.status}, {run.instances_seen:,} endpoints "
            f"({run.created:,} new, {run.changed:,} changed), {run.api_calls} API calls = "
            f"{run.api_calls / instances:.4f} per instance"
        )
    peak = _peak_mb()
    print(f"peak memory (RSS) of the syncing process: {peak:.0f} MB (+{peak - before:.0f} MB)")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
