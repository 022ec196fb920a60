"""A real Prometheus scrapes the live test server with the bearer token, loads the shipped
alert rules, runs every panel of the Grafana dashboard, and reads a metric back."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from api.metrics import GRADE_SCORES
from fleet.synthetic import seed_fleet
from inventory.models import DBInstance
from tests.api.conftest import METRICS_TOKEN
from tests.api.prometheus_server import api, prometheus, wait_until
from tests.api.test_deploy_files import ALERTS, DASHBOARD, _exprs

pytestmark = pytest.mark.django_db(transaction=True)


def test_prometheus_scrapes_and_reads_a_metric_back(live_server, metrics_token, tmp_path):
    seed_fleet(25)
    endpoint = DBInstance.objects.select_related("posture").filter(posture__isnull=False).first()
    expected = GRADE_SCORES[endpoint.posture.grade]
    target = urlsplit(live_server.url).netloc
    with prometheus(tmp_path, target=target, token=METRICS_TOKEN, rule_files=[ALERTS]) as url:
        query = f'tlsposture_grade_score{{identifier="{endpoint.identifier}"}}'

        def scraped():
            result = api(url, "query", query=query)["data"]["result"]
            return result or None

        (sample,) = wait_until(scraped, 60, what=f"{query} in Prometheus", log=tmp_path)
        assert float(sample["value"][1]) == expected
        assert sample["metric"]["account"] == endpoint.account.name
        assert sample["metric"]["job"] == "tlsposture"
        count = api(url, "query", query="count(tlsposture_grade_info)")["data"]["result"]
        assert int(count[0]["value"][1]) == 25

        (target_state,) = api(url, "targets")["data"]["activeTargets"]  # scraped already
        assert target_state["health"] == "up", target_state["lastError"]

        # The shipped rules load and evaluate in this Prometheus.
        groups = api(url, "rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == 14
        wait_until(
            lambda: all(r.get("lastEvaluation", "").startswith("2") for r in _rules(url)),
            30,
            what="every rule evaluated",
        )
        assert {rule["health"] for rule in _rules(url)} == {"ok"}, _rules(url)

        # Every panel's query runs (the account variable set to "all").
        dashboard = json.loads(DASHBOARD.read_text())
        for expr in _exprs(dashboard):
            answer = api(url, "query", query=expr.replace("$account", ".*"))
            assert answer["status"] == "success", (expr, answer)


def _rules(url):
    return [rule for group in api(url, "rules")["data"]["groups"] for rule in group["rules"]]


def test_prometheus_is_refused_with_a_wrong_token(live_server, metrics_token, tmp_path):
    target = urlsplit(live_server.url).netloc
    with prometheus(tmp_path, target=target, token="not-the-token", rule_files=[]) as url:

        def scraped_once():
            states = api(url, "targets")["data"]["activeTargets"]
            return states[0] if states and states[0]["health"] != "unknown" else None

        state = wait_until(scraped_once, 30, what="a scrape", log=tmp_path)
        assert state["health"] == "down" and "401" in state["lastError"]
