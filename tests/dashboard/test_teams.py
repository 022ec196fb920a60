"""Teams: a non-staff user sees and acts on only their teams' accounts, everywhere.

The world (conftest): prod-aws (orders-db, legacy-db, expiring-db, rotation-db, eu-db) and
cn-aliyun (rm-orders, old-db gone). The "aliyun" team is granted cn-aliyun only; its member
must never see or reach anything of prod-aws.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from api.services import create_token
from checker.models import CheckRun, Observation
from dashboard.models import SavedView
from inventory.models import DBInstance, TeamGrant
from inventory.teams import visible_accounts
from notifications.models import DigestSubscription
from notifications.queries import scoped_instances
from posture.models import Finding
from posture.visibility import visible_to
from tests.dashboard.conftest import PASSWORD, add_sync_runs
from tests.posture.builders import NOW
from tests.teams import join_team

pytestmark = pytest.mark.django_db

PROD_ENDPOINTS = ("orders-db", "legacy-db", "expiring-db", "rotation-db", "eu-db")


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user("aliyun-dba", password=PASSWORD)
    return join_team(user, "aliyun", ("cn-*",))


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def _pk(identifier: str) -> int:
    return DBInstance.objects.get(identifier=identifier).pk


def _shows_no_prod(html: str) -> None:
    for name in (*PROD_ENDPOINTS, "prod-aws"):
        assert name not in html, name


# --- The rule -------------------------------------------------------------------------


def test_a_glob_grants_the_accounts_it_matches_and_no_team_grants_nothing(
    world, member, django_user_model
):
    assert [a.name for a in visible_accounts(member)] == ["cn-aliyun"]
    loner = django_user_model.objects.create_user("new-hire", password=PASSWORD)
    assert list(visible_accounts(loner)) == []
    join_team(loner, "platform", ("prod-aws",))
    assert [a.name for a in visible_accounts(loner)] == ["prod-aws"]
    staff = django_user_model.objects.create_user("auditor2", password=PASSWORD, is_staff=True)
    assert {a.name for a in visible_accounts(staff)} == {"prod-aws", "cn-aliyun"}
    loner.is_active = False
    loner.save()
    assert list(visible_accounts(loner)) == []


def test_a_grant_reaches_accounts_created_later(world, member):
    from inventory.models import CloudAccount

    CloudAccount.objects.create(name="cn-aliyun-2", provider="aliyun")
    CloudAccount.objects.create(name="xcn-aliyun", provider="aliyun")  # glob is anchored
    assert [a.name for a in visible_accounts(member)] == ["cn-aliyun", "cn-aliyun-2"]


# --- Lists, charts, fragments ---------------------------------------------------------


def test_every_list_and_chart_shows_only_the_teams_accounts(member_client, world):
    add_sync_runs(world)
    for url in (
        reverse("dashboard:home"),
        reverse("dashboard:instances"),
        reverse("dashboard:instances") + "?state=all",
        reverse("dashboard:certificates"),
        reverse("dashboard:findings"),
        reverse("dashboard:findings") + "?view=types",
        reverse("dashboard:finding", args=["transport.not_enforced"]),
        reverse("dashboard:runs"),
    ):
        response = member_client.get(url)
        assert response.status_code == 200, url
        _shows_no_prod(response.content.decode())
    listed = member_client.get(reverse("dashboard:instances")).content.decode()
    assert "rm-orders" in listed
    # The filter's select box offers only the team's account.
    assert 'value="cn-aliyun"' in listed and 'value="prod-aws"' not in listed
    # The home page counts: 1 account, 1 current endpoint (rm-orders) and its open finding.
    home = member_client.get(reverse("dashboard:home")).content.decode()
    ours = Finding.objects.filter(instance__identifier="rm-orders", resolved_at__isnull=True)
    assert 0 < ours.count() < Finding.objects.filter(resolved_at__isnull=True).count()
    for counter, n in (("accounts", 1), ("instances", 1), ("findings", ours.count())):
        assert f'id="count-{counter}">{n}<' in home, counter


def test_fix_first_the_worklist_and_the_cas_are_the_teams_own(
    member_client, client, world, django_user_model
):
    """Issue 21's fleet views start from the visible endpoints too: the overview's "fix
    first", the worklist (and its HTMX table), and the CAs grouped by identifier."""
    home = member_client.get(reverse("dashboard:home")).content.decode()
    fix_first = home.split('id="fix-first"')[1].split("</section>")[0]
    assert "rm-orders" in fix_first
    _shows_no_prod(fix_first)
    headers = {"HX-Request": "true", "HX-Target": "worklist-table"}
    worklist = member_client.get(reverse("dashboard:findings"), headers=headers)
    assert "rm-orders" in worklist.content.decode()
    _shows_no_prod(worklist.content.decode())
    # prod-aws lists both CAs; cn-aliyun lists none.
    cas = member_client.get(reverse("dashboard:certificates")).content.decode()
    for identifier in ("rds-ca-2019", "rds-ca-rsa2048-g1"):
        assert identifier not in cas, identifier
    # Control: a team granted prod-aws sees them (the rule, not an empty page).
    owner = join_team(
        django_user_model.objects.create_user("prod-viewer", password=PASSWORD),
        "prod",
        ("prod-aws",),
    )
    client.force_login(owner)
    theirs = client.get(reverse("dashboard:certificates")).content.decode()
    assert "rds-ca-2019" in theirs and "rds-ca-rsa2048-g1" in theirs
    theirs_home = client.get(reverse("dashboard:home")).content.decode()
    assert "legacy-db" in theirs_home.split('id="fix-first"')[1].split("</section>")[0]


def test_audit_evidence_is_staff_only_like_every_export(member_client, world):
    """/evidence/ and its files hand out evidence: staff only (staff see every account)."""
    for url in (
        reverse("dashboard:evidence"),
        reverse("dashboard:evidence-export", args=["csv"]),
        reverse("dashboard:evidence-export", args=["xlsx"]),
    ):
        assert member_client.get(url).status_code == 403, url


def test_htmx_fragments_are_scoped_like_their_pages(member_client, world):
    headers = {"HX-Request": "true", "HX-Target": "instance-table"}
    response = member_client.get(reverse("dashboard:instances"), headers=headers)
    fragment = response.content.decode()
    assert "<html" not in fragment and "rm-orders" in fragment
    _shows_no_prod(fragment)
    headers = {"HX-Request": "true", "HX-Target": "finding-table"}
    url = reverse("dashboard:finding", args=["transport.not_enforced"])
    _shows_no_prod(member_client.get(url, headers=headers).content.decode())


def test_filtering_by_another_teams_account_finds_nothing(member_client, world):
    html = member_client.get(reverse("dashboard:instances") + "?account=prod-aws").content
    html = html.decode()
    # The form says the value is not one it offers (echoing what was typed), and no endpoint
    # of that account shows.
    assert "prod-aws is not one of the available choices" in html
    for name in PROD_ENDPOINTS:
        assert name not in html


def test_runs_show_the_teams_syncs_and_the_rounds_that_checked_its_endpoints(
    member_client, member, world
):
    add_sync_runs(world)
    ours = CheckRun.objects.create(started_at=NOW - timedelta(hours=5), status="done", trigger="t1")
    theirs = CheckRun.objects.create(
        started_at=NOW - timedelta(hours=4), status="done", trigger="t2"
    )
    Observation.objects.create(run=ours, instance_id=_pk("rm-orders"), checked_at=NOW, status="ok")
    Observation.objects.create(
        run=theirs, instance_id=_pk("orders-db"), checked_at=NOW, status="ok"
    )
    visible = visible_to(member)
    assert list(visible.check_runs) == [ours]
    assert {r.account.name for r in visible.sync_runs} == {"cn-aliyun"}
    page = member_client.get(reverse("dashboard:runs")).content.decode()
    assert "t1" in page and "t2" not in page


# --- API ------------------------------------------------------------------------------


def test_api_lists_answer_only_with_the_teams_accounts(client, member, world):
    _, token = create_token(member, "ci")
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("endpoints", "findings", "certificates", "runs/sync", "runs/check"):
        response = client.get(f"/api/v1/{path}?state=all", headers=auth)
        assert response.status_code == 200, path
        _shows_no_prod(response.content.decode())
    endpoints = json.loads(client.get("/api/v1/endpoints", headers=auth).content)
    assert [r["identifier"] for r in endpoints["results"]] == ["rm-orders"]


# --- Digests --------------------------------------------------------------------------


def test_a_digest_covers_only_what_its_owner_may_see(member, world):
    everything = DigestSubscription.objects.create(owner=member, name="all I may see")
    assert {i.identifier for i in scoped_instances(everything)} == {"rm-orders"}
    # Ticking another team's account (written past the form) still reaches nothing of it.
    sneaky = DigestSubscription.objects.create(owner=member, name="sneaky")
    sneaky.accounts.set([world["prod"]])
    assert list(scoped_instances(sneaky)) == []


def test_the_digest_form_offers_only_the_teams_accounts(member_client, world):
    html = member_client.get(reverse("notifications:subscription-create")).content.decode()
    assert "cn-aliyun" in html and "prod-aws" not in html
    response = member_client.post(
        reverse("notifications:subscription-create"),
        {
            "name": "sneaky",
            "recipients": "",
            "accounts": [world["prod"].pk],
            "thresholds_days": "30",
            "cadence": "daily",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200  # the form refuses a choice it did not offer
    assert not DigestSubscription.objects.filter(name="sneaky").exists()


# --- Every URL that takes an id -------------------------------------------------------


def _patterns(resolver: URLResolver, namespace: str = "", prefix: str = ""):
    """(name, route, parameter names) of every URL, walking the resolver."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, inner, route)
        elif isinstance(entry, URLPattern):
            params = set(entry.pattern.regex.groupindex)
            yield f"{namespace}{entry.name or ''}", route, params


def _objects_of_another_team(world, django_user_model) -> dict:
    """An object per id-taking URL that the member may not see, with how to ask for it."""
    other = django_user_model.objects.create_user("prod-dba", password=PASSWORD)
    join_team(other, "prod", ("prod-aws",))
    token_row, _ = create_token(other, "theirs")
    subscription = DigestSubscription.objects.create(owner=other, name="prod digest")
    view = SavedView.objects.create(user=other, name="prod grade F", query="grade=F")
    orders = _pk("orders-db")
    return {
        "dashboard:instance": ("get", reverse("dashboard:instance", args=[orders])),
        "dashboard:check-now": ("post", reverse("dashboard:check-now", args=[orders])),
        "dashboard:check-status": ("get", reverse("dashboard:check-status", args=[orders])),
        "dashboard:view-delete": ("post", reverse("dashboard:view-delete", args=[view.pk])),
        "api:endpoint": ("get", reverse("api:endpoint", args=[orders])),
        "api:token-revoke": ("post", reverse("api:token-revoke", args=[token_row.pk])),
        "notifications:subscription-edit": (
            "get",
            reverse("notifications:subscription-edit", args=[subscription.pk]),
        ),
        "notifications:subscription-delete": (
            "post",
            reverse("notifications:subscription-delete", args=[subscription.pk]),
        ),
    }


# URLs with a parameter that is not the id of something a team owns, and why.
NOT_AN_ID = {
    "dashboard:instances-export": "a format; exports are staff only (test_access)",
    "dashboard:findings-export": "a format; exports are staff only (test_access)",
    "dashboard:evidence-export": "a format; audit evidence is staff only (test above)",
    "dashboard:finding": "a catalogue id, the same for everyone; its list is scoped (above)",
    "notifications:unsubscribe": "a signed token naming its own subscription and address",
    "api:": "any other /api/v1/ path: a JSON 404 for everyone",
}


def test_every_url_that_takes_an_id_is_a_404_for_another_team(
    member_client, member, world, django_user_model
):
    objects = _objects_of_another_team(world, django_user_model)
    taking_an_id = {
        name
        for name, route, params in _patterns(get_resolver())
        if params and not route.startswith("admin/")  # the admin: staff only
    }
    unclassified = taking_an_id - set(objects) - set(NOT_AN_ID)
    assert unclassified == set(), "say how another team's object is asked for, or why not"
    assert set(objects) <= taking_an_id  # the table names real URLs
    _, token = create_token(member, "mine")
    for name, (method, url) in objects.items():
        response = getattr(member_client, method)(url)
        assert response.status_code == 404, (name, url, response.status_code)
        if name == "api:endpoint":
            with_token = member_client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert with_token.status_code == 404, url
    # Nothing was done to the other team's objects.
    assert DigestSubscription.objects.filter(name="prod digest").exists()
    assert TeamGrant.objects.filter(pattern="prod-aws").exists()
    assert SavedView.objects.filter(name="prod grade F").exists()


def test_the_same_urls_answer_the_owning_team(client, world, django_user_model):
    """The 404s above are the team rule, not broken URLs."""
    owner = join_team(
        django_user_model.objects.create_user("orders-dba", password=PASSWORD),
        "prod",
        ("prod-aws",),
    )
    client.force_login(owner)
    orders = _pk("orders-db")
    assert client.get(reverse("dashboard:instance", args=[orders])).status_code == 200
    assert client.get(reverse("dashboard:check-status", args=[orders])).status_code == 200
    assert client.get(reverse("api:endpoint", args=[orders])).status_code == 200
