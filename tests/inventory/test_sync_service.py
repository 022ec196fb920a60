"""sync_account / write_region semantics, independent of any one provider.

Provider sources are tested against moto and the local Alibaba server; here facts are
written directly, and a region failure comes from a source object standing in for a cloud.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.as_code import EntryError
from inventory.accounts_as_code import import_accounts
from inventory.facts import (
    CAFact,
    InstanceFact,
    ParameterFact,
    PendingActionFact,
    RegionInventory,
    SourceError,
)
from inventory.models import (
    CloudAccount,
    DBInstance,
    PendingAction,
    SyncRegion,
    SyncRun,
    TLSParameter,
)
from inventory.region_writer import write_region
from inventory.services import sync_account

pytestmark = pytest.mark.django_db

ARN = "arn:aws:rds:us-east-1:111111111111:db:{}"


def _instance(name: str, **kw) -> InstanceFact:
    defaults = {
        "kind": "instance",
        "identifier": name,
        "resource_id": ARN.format(name),
        "engine": "mysql",
        "engine_version": "8.0.39",
        "endpoint_host": f"{name}.abc.us-east-1.rds.amazonaws.com",
        "endpoint_port": 3306,
        "ca_identifier": "rds-ca-rsa2048-g1",
        "parameters": (
            ParameterFact(
                "require_secure_transport", "1", "api:parameter-group", "custom", set_by="user"
            ),
        ),
    }
    defaults.update(kw)
    return InstanceFact(**defaults)


CA = CAFact("rds-ca-rsa2048-g1", valid_till=datetime(2061, 5, 24, tzinfo=UTC))


class _CloudStandIn:
    """A cloud with two regions; `broken` regions raise as an API would."""

    def __init__(self, inventories: dict[str, RegionInventory], broken: dict[str, str]):
        self.inventories, self.broken = inventories, broken

    def regions(self):
        return [*self.inventories, *self.broken]

    def fetch_region(self, region):
        if region in self.broken:
            raise SourceError(self.broken[region])
        return self.inventories[region]


@pytest.fixture
def account():
    return CloudAccount.objects.create(name="prod-aws", provider="aws", regions=["us-east-1"])


def test_write_region_upserts_and_is_idempotent(account):
    inventory = RegionInventory(
        "us-east-1", instances=(_instance("orders"), _instance("billing")), cas=(CA,)
    )
    first = write_region(account, inventory)
    assert (first.created, first.changed) == (2, 0)
    orders = DBInstance.objects.get(identifier="orders")
    assert orders.ca.identifier == "rds-ca-rsa2048-g1" and orders.ca_lookup_error == ""
    param = TLSParameter.objects.get(instance=orders)
    assert (param.raw_value, param.normalised_value, param.set_by) == ("1", True, "user")

    second = write_region(account, inventory)
    assert (second.created, second.changed, second.marked_gone) == (0, 0, 0)


def test_missing_instances_are_marked_gone_and_kept(account):
    write_region(
        account, RegionInventory("us-east-1", (_instance("orders"), _instance("old")), (CA,))
    )
    outcome = write_region(account, RegionInventory("us-east-1", (_instance("orders"),), (CA,)))
    assert outcome.marked_gone == 1
    old = DBInstance.objects.get(identifier="old")
    assert old.gone_at is not None
    assert TLSParameter.objects.filter(instance=old).exists()  # history kept
    # It comes back: no longer gone.
    write_region(
        account, RegionInventory("us-east-1", (_instance("orders"), _instance("old")), (CA,))
    )
    old.refresh_from_db()
    assert old.gone_at is None


def test_incomplete_listing_marks_nothing_gone(account):
    write_region(account, RegionInventory("us-east-1", (_instance("orders"),), (CA,)))
    outcome = write_region(account, RegionInventory("us-east-1", (), (CA,), complete=False))
    assert outcome.marked_gone == 0
    assert DBInstance.objects.get(identifier="orders").gone_at is None


def test_unknown_ca_is_recorded_with_its_reason(account):
    write_region(
        account,
        RegionInventory("us-east-1", (_instance("legacy", ca_identifier="rds-ca-2019"),), (CA,)),
    )
    legacy = DBInstance.objects.get(identifier="legacy")
    assert legacy.ca is None
    assert legacy.ca_lookup_error == "rds-ca-2019 is not among the CAs the region lists"


def test_cluster_members_proxies_and_pending_actions(account):
    cluster = _instance(
        "aurora", kind="cluster", engine="aurora-mysql", resource_id="arn:cluster:aurora"
    )
    member = _instance(
        "aurora-1", engine="aurora-mysql", parent_resource_id="arn:cluster:aurora", role="writer"
    )
    proxy = _instance(
        "proxy",
        kind="proxy",
        engine="MYSQL",
        resource_id="arn:proxy",
        proxy_require_tls=False,
        proxy_target_resource_ids=("arn:cluster:aurora",),
    )
    rotation = PendingActionFact(
        "ca-certificate-rotation", forced_apply_date=datetime(2027, 1, 1, tzinfo=UTC)
    )
    solo = _instance("solo", pending_actions=(rotation,))
    write_region(account, RegionInventory("us-east-1", (member, cluster, proxy, solo), (CA,)))
    member_row = DBInstance.objects.get(identifier="aurora-1")
    assert member_row.parent.identifier == "aurora"
    assert list(
        DBInstance.objects.get(identifier="proxy").proxy_targets.values_list(
            "identifier", flat=True
        )
    ) == ["aurora"]
    assert PendingAction.objects.get().due == datetime(2027, 1, 1, tzinfo=UTC)
    # The rotation is done: the pending action goes away.
    outcome = write_region(
        account,
        RegionInventory("us-east-1", (member, cluster, proxy, _instance("solo")), (CA,)),
    )
    assert not PendingAction.objects.exists()
    assert outcome.changed == 1


def test_failed_region_keeps_its_data_and_others_sync(account):
    account.regions = ["us-east-1", "eu-west-1"]
    account.save()
    write_region(
        account, RegionInventory("eu-west-1", (_instance("eu-db", resource_id="arn:eu"),), ())
    )
    cloud = _CloudStandIn(
        {
            "us-east-1": RegionInventory(
                "us-east-1",
                (_instance("orders"),),
                (CA,),
                api_calls=4,
                warnings=("CA list: throttled",),
            )
        },
        {"eu-west-1": "AccessDenied: not authorized to perform rds:DescribeDBInstances"},
    )
    run = sync_account(account, source=cloud)
    assert run.status == SyncRun.Status.PARTIAL
    outcomes = {r.region: r for r in run.regions.all()}
    assert outcomes["us-east-1"].status == SyncRegion.Status.OK
    assert outcomes["eu-west-1"].error.startswith("AccessDenied")
    assert DBInstance.objects.get(identifier="eu-db").gone_at is None
    assert run.api_calls == 4 and run.instances_seen == 1
    assert outcomes["us-east-1"].warnings == ["CA list: throttled"]


def test_import_accounts_is_idempotent_and_refuses_secrets():
    entries = [
        {"name": "prod-aws", "provider": "aws", "regions": ["us-east-1", "eu-west-1"]},
        {
            "name": "cn",
            "provider": "aliyun",
            "access_key_id_env": "TLSPOSTURE_CRED_AK",
            "access_key_secret_env": "TLSPOSTURE_CRED_SK",
            "endpoint": "127.0.0.1:9000",
            "protocol": "http",
        },
    ]
    assert import_accounts(entries)["created"] == ["prod-aws", "cn"]
    assert import_accounts(entries) == {
        "created": [],
        "updated": [],
        "unchanged": ["prod-aws", "cn"],
        "teams created": [],
    }
    entries[0]["regions"] = ["us-east-1"]
    assert import_accounts(entries)["updated"] == ["prod-aws"]
    with pytest.raises(EntryError, match="secret"):
        import_accounts([{"name": "x", "provider": "aws", "access_key_secret": "abc"}])
    with pytest.raises(EntryError, match="provider"):
        import_accounts([{"name": "x", "provider": "gcp"}])
    assert CloudAccount.objects.count() == 2


def test_a_failed_lookup_keeps_what_was_known(account):
    renewal = PendingActionFact("ssl-certificate-renewal", description="certificate expires")
    known = _instance("orders", pending_actions=(renewal,))
    write_region(account, RegionInventory("us-east-1", (known,), (CA,)))
    unread = _instance(
        "orders",
        parameters=(),
        lookup_errors=(("parameters", "AccessDenied"), ("ssl", "InternalError")),
    )
    write_region(account, RegionInventory("us-east-1", (unread,), (CA,)))
    orders = DBInstance.objects.get(identifier="orders")
    assert orders.lookup_errors == {"parameters": "AccessDenied", "ssl": "InternalError"}
    # Unknown this time is not "no longer set": the earlier rows stay.
    assert TLSParameter.objects.filter(instance=orders, name="require_secure_transport").exists()
    assert PendingAction.objects.filter(instance=orders).exists()
    # Read again successfully without them: now they really are gone.
    write_region(
        account, RegionInventory("us-east-1", (_instance("orders", parameters=()),), (CA,))
    )
    assert not TLSParameter.objects.filter(instance=orders).exists()
    assert not PendingAction.objects.filter(instance=orders).exists()
