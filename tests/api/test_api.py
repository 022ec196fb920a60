"""The read-only JSON API against the dashboard's world: authentication, rows, filters,
pagination, and what it refuses."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from api.services import create_token
from api.tokens import token_hash
from fleet.synthetic import seed_fleet
from posture.report import report_rows
from posture.visibility import visible_to

pytestmark = pytest.mark.django_db


def _get(client, path, token, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/endpoints",
        "/api/v1/endpoints/1",
        "/api/v1/findings",
        "/api/v1/certificates",
        "/api/v1/runs/sync",
        "/api/v1/runs/check",
        "/api/v1/openapi.json",
    ],
)
def test_every_api_url_wants_a_token(client, viewer, viewer_token, path):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer tlsp_wrong"}, {"HTTP_AUTHORIZATION": "x"}):
        response = client.get(path, **headers)
        assert response.status_code == 401, (path, headers)  # JSON, not the login page
        assert response.json()["detail"].startswith("Authentication required")
        assert response["WWW-Authenticate"].startswith("Bearer")
    # A revoked token and a deactivated user's token are refused too.
    row, token = create_token(viewer, "short-lived")
    row.delete()
    assert _get(client, path, token).status_code == 401
    viewer.is_active = False
    viewer.save()
    assert _get(client, path, viewer_token).status_code == 401


def test_a_token_is_stored_only_as_its_hash(viewer):
    row, token = create_token(viewer, "ci")
    assert token.startswith("tlsp_") and len(token) >= 45
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.key_hash == token_hash(token) and token not in (stored.key_hash, stored.prefix)
    assert token.startswith(stored.prefix)


def test_endpoints_are_the_report_rows(client, world, viewer_token):
    response = _get(client, "/api/v1/endpoints", viewer_token)
    assert response.status_code == 200
    page = response.json()
    expected = report_rows(visible_to(client_user(viewer_token)).instances.filter(gone_at=None))
    assert [{k: v for k, v in row.items() if k != "id"} for row in page["results"]] == expected
    assert page["count"] == 6 and page["pages"] == 1 and page["next"] is None
    one = next(row for row in page["results"] if row["identifier"] == "orders-db")
    detail = _get(client, f"/api/v1/endpoints/{one['id']}", viewer_token).json()
    assert detail == one and detail["grade"] == "A+"
    assert _get(client, "/api/v1/endpoints/999999", viewer_token).status_code == 404


def client_user(token):
    from api.tokens import token_user

    return token_user(token)


def test_filters_are_the_instance_lists(client, world, viewer_token):
    def names(**params):
        response = _get(client, "/api/v1/endpoints", viewer_token, **params)
        assert response.status_code == 200, response.content
        return sorted(row["identifier"] for row in response.json()["results"])

    assert names(grade="C") == ["expiring-db", "legacy-db", "rm-orders"]
    assert names(provider="aliyun") == ["rm-orders"]
    assert names(enforcement="not-enforced") == ["legacy-db", "rm-orders"]
    assert names(tag="env=prod") == ["expiring-db", "orders-db"]
    assert names(cert_expires="7") == ["expiring-db"]
    assert names(state="gone") == ["old-db"]
    assert names(account="prod-aws", region="eu-west-1") == ["eu-db"]
    assert names(account="no-such-account") == []  # matches nothing; not an error
    bad = _get(client, "/api/v1/endpoints", viewer_token, grade="Z", tag="novalue")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"grade", "tag"}
    twice = client.get(
        "/api/v1/endpoints?grade=C&grade=F", HTTP_AUTHORIZATION=f"Bearer {viewer_token}"
    )
    assert twice.status_code == 400 and "grade" in twice.json()["errors"]


def test_findings_certificates_and_runs(client, world, viewer_token):
    findings = _get(client, "/api/v1/findings", viewer_token, severity="high").json()
    assert findings["count"] and {f["severity"] for f in findings["results"]} == {"high"}
    row = next(f for f in findings["results"] if f["identifier"] == "legacy-db")
    assert row["id"] == "transport.not_enforced" and row["remediation"]
    assert isinstance(row["endpoint_id"], int)
    only = _get(client, "/api/v1/findings", viewer_token, finding="cert.expiring").json()
    assert [(f["identifier"], f["severity"]) for f in only["results"]] == [
        ("expiring-db", "high"),  # 5 days
        ("legacy-db", "low"),  # 60 days
    ]
    certificates = _get(client, "/api/v1/certificates", viewer_token).json()["results"]
    assert certificates[0]["identifier"] == "expiring-db"  # soonest first
    assert certificates[-1]["server_cert_not_after"] is None  # unknown last
    syncs = _get(client, "/api/v1/runs/sync", viewer_token).json()
    assert syncs["count"] == 3
    assert syncs["results"][0]["regions"][0]["region"] == "eu-west-1"
    failed = _get(client, "/api/v1/runs/sync", viewer_token, status="failed").json()
    assert [r["account"] for r in failed["results"]] == ["cn-aliyun"]
    assert _get(client, "/api/v1/runs/sync", viewer_token, status="nope").status_code == 400
    assert _get(client, "/api/v1/runs/check", viewer_token).json()["count"] == 0


def test_pages_with_links(client, db, viewer_token):
    seed_fleet(120)
    first = _get(client, "/api/v1/endpoints", viewer_token, per_page=4, grade="A+")
    body = first.json()
    assert body["page"] == 1 and body["pages"] == -(-body["count"] // 4) > 2
    assert body["next"].startswith("http://testserver/api/v1/endpoints?")
    assert "grade=A%2B" in body["next"] and "page=2" in body["next"]
    assert 'rel="next"' in first["Link"] and 'rel="last"' in first["Link"]
    seen = [row["id"] for row in body["results"]]
    url = body["next"]
    while url:
        page = client.get(url, HTTP_AUTHORIZATION=f"Bearer {viewer_token}").json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == body["count"]
    assert _get(client, "/api/v1/endpoints", viewer_token, page=99).status_code == 404
    for bad in ({"page": 0}, {"per_page": 501}, {"page": "two"}):
        assert _get(client, "/api/v1/endpoints", viewer_token, **bad).status_code == 400


def test_read_only_without_csrf_or_session(client, world, viewer_token):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            "/api/v1/endpoints", HTTP_AUTHORIZATION=f"Bearer {viewer_token}"
        )
        assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert "sessionid" not in _get(client, "/api/v1/endpoints", viewer_token).cookies


def test_a_logged_in_browser_reads_it_too(client, world, viewer):
    client.force_login(viewer)
    assert client.get("/api/v1/endpoints").status_code == 200


def test_queries_do_not_grow_with_the_fleet(client, db, viewer_token):
    def count(path):
        with CaptureQueriesContext(connection) as queries:
            assert _get(client, path, viewer_token, per_page=100).status_code == 200
        return len(queries)

    paths = ["/api/v1/endpoints", "/api/v1/findings", "/api/v1/certificates", "/api/v1/runs/sync"]
    seed_fleet(150)
    count(paths[0])  # the token's first use writes its last_used_at once
    small = {path: count(path) for path in paths}
    seed_fleet(1000, start=150)
    assert {path: count(path) for path in paths} == small
    # Two of them are the team rule's (the user's grants, the account names they match).
    assert max(small.values()) <= 10
