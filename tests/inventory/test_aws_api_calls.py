"""API calls grow with parameter groups and regions, never with instances."""

from __future__ import annotations

from types import SimpleNamespace

from fleet import moto_rds
from inventory.sources.aws import AwsSource
from tests.inventory.aws_world import DEFAULT_ACCOUNT

GROUPS = 5


def test_250_instances_sharing_5_groups(aws):
    for n in range(GROUPS):
        aws.group(f"app-{n}", "mysql8.0", require_secure_transport="1")
    moto_rds.create_db_instances(
        DEFAULT_ACCOUNT,
        "us-east-1",
        [
            {
                "DBInstanceIdentifier": f"app-db-{i:03}",
                "Engine": "mysql",
                "EngineVersion": "8.0.39",
                "DBParameterGroupName": f"app-{i % GROUPS}",
            }
            for i in range(250)
        ],
    )
    account = SimpleNamespace(name="big", regions=["us-east-1"], role_arn="", endpoint_url="")

    inventory = AwsSource(account).fetch_region("us-east-1")

    assert len(inventory.instances) == 250
    assert all(f.parameters[0].raw_value == "1" for f in inventory.instances)
    expected = (
        3  # DescribeDBInstances: 250 instances in pages of 100
        + 1  # DescribeDBClusters
        + 1  # DescribeDBProxies
        + 1  # DescribePendingMaintenanceActions
        + 1  # DescribeCertificates
        + GROUPS  # DescribeDBParameters, once per group
        + 1  # DescribeEngineDefaultParameters for mysql8.0 (what the groups leave unset)
    )
    assert inventory.api_calls == expected
