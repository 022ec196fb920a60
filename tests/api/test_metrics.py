"""/metrics: who may read it, what it says about the dashboard's world, and at what cost."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api.exposition import stream
from api.metrics import ENDPOINT_LABELS, FleetCollector
from fleet.synthetic import seed_fleet
from tests.api.metrics_text import families, values

pytestmark = pytest.mark.django_db


def _scrape(client, token, **headers):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


def test_off_without_a_token_setting(client, settings):
    settings.TLSPOSTURE = {**settings.TLSPOSTURE, "METRICS_TOKEN": ""}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer wrong-token", "Basic bWV0cmljczp4", "Token metrics-token"],
)
def test_refused_without_the_right_bearer_token(client, metrics_token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401  # not a redirect to the login page
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert metrics_token not in response.content.decode()


def test_only_the_login_requirement_is_lifted(client, metrics_token, settings):
    # The token replaces the login; the HTTPS redirect and the security headers still apply.
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}").status_code in (
        403,
        405,
    )


def test_the_world_as_metrics(client, world, metrics_token):
    text = _scrape(client, metrics_token)
    metrics = families(text)
    grade = metrics["tlsposture_grade_score"]
    assert values(grade) == {
        "orders-db": 6.0,  # A+
        "legacy-db": 3.0,  # C
        "expiring-db": 3.0,  # C
        "rotation-db": 1.0,  # F
        "eu-db": 0.0,  # ? — no evidence
        "rm-orders": 3.0,  # C
    }  # old-db is gone: no sample
    assert {s.labels["identifier"]: s.labels["grade"] for s in metrics["tlsposture_grade_info"]}[
        "eu-db"
    ] == "?"
    orders = next(s for s in grade if s.labels["identifier"] == "orders-db")
    assert orders.labels == {
        "provider": "aws",
        "account": "prod-aws",
        "region": "us-east-1",
        "identifier": "orders-db",
        "kind": "instance",
        "engine": "mysql",
    }
    # Unknown is absent, never 0: eu-db's enforcement and certificate are not known.
    enforced = values(metrics["tlsposture_transport_enforced"])
    assert enforced["orders-db"] == 1.0 and enforced["legacy-db"] == 0.0
    assert enforced["rm-orders"] == 0.0  # ApsaraDB SSL on, not forced
    assert "eu-db" not in enforced
    assert "eu-db" not in values(metrics["tlsposture_server_cert_not_after_timestamp_seconds"])
    expiring = values(metrics["tlsposture_server_cert_not_after_timestamp_seconds"])
    assert expiring["expiring-db"] - world_now_seconds() == pytest.approx(5 * 86400)
    # Only orders-db was probed: its versions are 1 or 0; nothing else has a version sample.
    versions = metrics["tlsposture_tls_version_accepted"]
    assert {s.labels["identifier"] for s in versions} == {"orders-db"}
    assert {s.labels["version"]: s.value for s in versions} == {
        "SSLv3": 0.0,
        "TLSv1.0": 0.0,
        "TLSv1.1": 0.0,
        "TLSv1.2": 1.0,
        "TLSv1.3": 1.0,
    }
    findings = {
        (s.labels["identifier"], s.labels["id"], s.labels["severity"])
        for s in metrics["tlsposture_findings_open"]
    }
    assert ("expiring-db", "cert.expiring", "high") in findings
    assert ("legacy-db", "transport.not_enforced", "high") in findings
    assert ("rotation-db", "ca.deprecated", "high") in findings
    assert not any(identifier == "old-db" for identifier, _, _ in findings)
    assert values(metrics["tlsposture_check_success"]) == {"orders-db": 1.0}
    assert set(values(metrics["tlsposture_last_check_timestamp_seconds"])) == {"orders-db"}
    # Sync: us-east-1 ok an hour ago; eu-west-1 failed since; cn-aliyun's run failed whole.
    sync = {
        (s.labels["account"], s.labels["region"]): s.value
        for s in metrics["tlsposture_sync_success"]
    }
    assert sync == {
        ("prod-aws", "us-east-1"): 1.0,
        ("prod-aws", "eu-west-1"): 0.0,
        ("cn-aliyun", "cn-hangzhou"): 0.0,
    }
    last_sync = {
        (s.labels["account"], s.labels["region"]): s.value
        for s in metrics["tlsposture_last_sync_timestamp_seconds"]
    }
    assert set(last_sync) == {("prod-aws", "us-east-1"), ("prod-aws", "eu-west-1")}
    # Labels are the documented ones; no secret (the credential variable names) anywhere.
    for samples in metrics.values():
        for sample in samples:
            assert set(sample.labels) <= {*ENDPOINT_LABELS, "grade", "version", "id", "severity"}
    assert "TLSPOSTURE_CRED" not in text and metrics_token not in text


def world_now_seconds() -> float:
    from tests.posture.builders import NOW

    return NOW.timestamp()


def test_promtool_finds_nothing_to_lint(client, world, metrics_token):
    text = _scrape(client, metrics_token)
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_each_family_once_however_it_is_chunked(client, db, metrics_token):
    seed_fleet(40)
    whole = b"".join(stream(FleetCollector(chunk=1000))).decode()
    chunked = b"".join(stream(FleetCollector(chunk=3))).decode()
    assert chunked == whole
    assert whole.count("# TYPE tlsposture_grade_score gauge") == 1
    assert len(values(families(whole)["tlsposture_grade_score"])) == 40


def test_gzip_when_prometheus_asks_for_it(client, world, metrics_token):
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


def _queries(client, token) -> int:
    with CaptureQueriesContext(connection) as queries:
        _scrape(client, token)
    return len(queries)


def test_a_scrape_costs_the_same_queries_for_10_and_3000_endpoints(client, db, metrics_token):
    seed_fleet(10)
    small = _queries(client, metrics_token)
    seed_fleet(2990, start=10)
    assert _queries(client, metrics_token) == small
    assert small <= 14
