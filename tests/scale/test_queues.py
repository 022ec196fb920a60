"""Queue names are derived from network zones in one place, and only from usable names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from common.as_code import EntryError
from common.queues import zone_queue
from inventory.accounts_as_code import import_accounts
from inventory.models import CloudAccount


@pytest.mark.parametrize(
    ("zone", "queue"),
    [("default", "zone.default"), ("vpc-prod_1.eu", "zone.vpc-prod_1.eu"), ("", "zone.default")],
)
def test_a_zone_names_its_queue(zone, queue):
    assert zone_queue(zone) == queue


@pytest.mark.parametrize("zone", ["a,b", "vpc prod", "zone/1", "x" * 101])
def test_a_name_that_cannot_be_a_queue_is_refused(zone):
    with pytest.raises(ValidationError, match="must be letters, digits"):
        zone_queue(zone)


@pytest.mark.django_db
def test_accounts_as_code_and_the_admin_refuse_such_a_zone():
    entry = {"name": "prod", "provider": "aws", "network_zone": "eu,us"}
    with pytest.raises(EntryError, match=r"\(prod\): network zone 'eu,us' must be letters"):
        import_accounts([entry])
    account = CloudAccount(name="prod", provider="aws", network_zone="eu us")
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert list(refused.value.message_dict) == ["network_zone"]
