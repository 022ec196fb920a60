"""Queue names are derived from network zones in one place, and only from usable names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from common.as_code import EntryError
from common.queues import check_now_queue, check_now_queues, zone_queue
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
    with pytest.raises(ValidationError, match="must be letters, digits"):
        check_now_queue(zone)


def test_each_zone_has_a_check_now_queue_that_no_zone_queue_can_be():
    assert check_now_queue("vpc-prod") == "now.vpc-prod"
    assert check_now_queue("") == "now.default"
    # A zone may be called "now": its queue is still a zone queue.
    assert zone_queue("now") == "zone.now" != check_now_queue("now")


def test_a_worker_of_zone_queues_also_takes_their_check_now_queues():
    given = ["tlsposture", "zone.default", "zone.vpc-prod_1.eu"]
    assert check_now_queues(given) == ["now.default", "now.vpc-prod_1.eu"]
    assert check_now_queues(["tlsposture"]) == []


@pytest.mark.django_db
def test_accounts_as_code_and_the_admin_refuse_such_a_zone():
    entry = {"name": "prod", "provider": "aws", "network_zone": "eu,us"}
    with pytest.raises(EntryError, match=r"\(prod\): network zone 'eu,us' must be letters"):
        import_accounts([entry])
    account = CloudAccount(name="prod", provider="aws", network_zone="eu us")
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert list(refused.value.message_dict) == ["network_zone"]
