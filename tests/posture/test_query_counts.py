"""Evaluating and reporting a fleet costs a fixed number of queries, not one per instance.

First evaluations insert many rows, which the database backend may split by its parameter
limit (SQLite: 999 per statement); re-evaluations and reports do not grow at all.
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checker.evidence import ACCEPTED, Verdict
from checker.models import Observation, TargetState
from inventory.facts import PendingActionFact
from inventory.models import CloudAccount, DBInstance
from posture.models import Finding, InstancePosture
from posture.report import report_rows
from posture.services import evaluate_account
from tests.posture.builders import NOW, clean_evidence
from tests.posture.rows import instance_fact, rst, sync

pytestmark = pytest.mark.django_db


def _fleet(name: str, size: int) -> CloudAccount:
    account = CloudAccount.objects.create(name=name, provider="aws")
    rotation = (PendingActionFact("ca-certificate-rotation"),)
    sync(
        account,
        *(
            instance_fact(
                f"{name}-{n:03}",
                resource_id=f"arn:{name}:{n}",
                parameters=(rst("0" if n % 2 else "1"),),
                pending_actions=rotation if n % 3 == 0 else (),
            )
            for n in range(size)
        ),
    )
    evidence = clean_evidence()
    evidence.probe.cipher_classes["static_rsa"] = Verdict(ACCEPTED, suite="AES256-GCM-SHA384")
    observations = Observation.objects.bulk_create(
        Observation(instance=i, checked_at=NOW, status="ok", evidence=evidence.to_dict())
        for i in DBInstance.objects.filter(account=account)
    )
    TargetState.objects.bulk_create(
        TargetState(instance=o.instance, latest=o, last_checked=NOW, status="ok")
        for o in observations
    )
    return account


def _queries(function, *args) -> int:
    with CaptureQueriesContext(connection) as context:
        function(*args)
    return len(context)


def test_evaluating_and_reporting_300_instances_is_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    with time_machine.travel(NOW, tick=False):
        small, large = _fleet("small", 30), _fleet("large", 300)
        evaluate_account(small)
        with django_assert_max_num_queries(25):
            first = evaluate_account(large)
        assert first.evaluated == 300 and InstancePosture.objects.count() == 330
        assert Finding.objects.filter(finding_id="cipher.no_forward_secrecy").count() == 330
        # After every sync and check: the same queries for 30 endpoints as for 300.
        steady = _queries(evaluate_account, large)
        assert steady == _queries(evaluate_account, small)
        # 12: the two of the endpoints' client evidence (readouts, sightings) included.
        with django_assert_max_num_queries(12):
            evaluate_account(large)
        reported = _queries(report_rows, DBInstance.objects.filter(account=large))
        assert reported == _queries(report_rows, DBInstance.objects.filter(account=small))
        with django_assert_max_num_queries(3):
            rows = report_rows(DBInstance.objects.filter(account=large))
    assert len(rows) == 300
    assert {row["grade"] for row in rows} == {"B"}  # no forward secrecy: medium, cap B
