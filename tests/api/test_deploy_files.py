"""deploy/prometheus and deploy/grafana: valid, tested, and reading only metrics that exist."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.api.metrics_text import families
from tests.api.promql import metric_names

pytestmark = pytest.mark.django_db

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "tlsposture.json"


def _served(client, token) -> set[str]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    return set(families(b"".join(response.streaming_content).decode()))


def _exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def test_promtool_checks_and_unit_tests_the_alert_rules():
    checked = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"],
        cwd=ALERTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_rule_is_unit_tested():
    rules = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}
    tests = yaml.safe_load((ALERTS.parent / "alerts_test.yml").read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert rules == firing


def test_alert_rules_and_dashboard_read_only_served_metrics(client, world, metrics_token):
    served = _served(client, metrics_token) | {"up"}
    rules = yaml.safe_load(ALERTS.read_text())
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = list(_exprs(rules)) + list(_exprs(dashboard))
    templating = [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    used = set().union(*(metric_names(e) for e in exprs + templating))
    assert len(exprs) >= 30 and used  # the walk found the expressions
    assert used - served == set()
    # And the dashboard shows each family the API documents somewhere, but the timestamps
    # of checks and syncs that only alerts need.
    assert served - used - {"up"} == set()


def test_the_dashboard_is_a_grafana_dashboard():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        assert all(target["refId"] for target in panel["targets"])
