"""Single sign-on against a real OpenID Connect provider (node's oidc-provider on loopback,
HTTPS), through headless Chromium: sign in, land where you were going, see only your
teams' accounts; teams follow the groups claim; local password logins can be switched off.
"""

from __future__ import annotations

import re
import socket
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation

from inventory.models import CloudAccount, TeamGrant
from tests.core.oidc_provider import start_provider
from tests.dashboard.browser import (
    CHROMIUM_ARGS,
    browser_env,
    chromium_path,
    screenshot,  # noqa: F401 - fixture
)
from tests.posture.rows import instance_fact, sync
from tlsposture import oidc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET_VARIABLE = "TLSPOSTURE_CRED_OIDC_TEST_SECRET"
USERS = {
    "ana": {"email": "ana@example.com", "groups": ["payments", "dba-on-call"]},
    "root": {"email": "root@example.com", "groups": ["payments"]},
}


@pytest.fixture
def provider(live_server, tmp_path, settings, monkeypatch):
    """The provider, and the site set up for it exactly as the environment would."""
    secret = "client-secret-for-tests-0123456789"
    running, process = start_provider(
        tmp_path,
        redirect_uri=live_server.url + "/oidc/callback/",
        users=USERS,
        client_secret=secret,
    )
    monkeypatch.setenv(SECRET_VARIABLE, secret)
    settings.OIDC_ISSUER = running.issuer
    settings.OIDC_RP_CLIENT_ID = running.client_id
    settings.OIDC_CLIENT_SECRET_ENV = SECRET_VARIABLE
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_VERIFY_SSL = str(running.ca_bundle)
    settings.PASSWORD_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "tlsposture.oidc.TeamsFromClaims",
    ]
    oidc.forget_discovery()
    try:
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)
        oidc.forget_discovery()


@pytest.fixture
def fleet(provider):
    """Two accounts; the payments team is granted one. Written before the browser opens."""
    payments = CloudAccount.objects.create(name="payments-prod", provider="aws")
    search = CloudAccount.objects.create(name="search-prod", provider="aws")
    sync(payments, instance_fact("pay-db"))
    sync(search, instance_fact("search-db"))
    team = Group.objects.create(name="payments")
    TeamGrant.objects.create(group=team, pattern="payments-*")
    # A stale membership the claim no longer names: the login takes it away.
    stale = Group.objects.create(name="search")
    TeamGrant.objects.create(group=stale, pattern="search-*")
    ana = get_user_model().objects.create(
        username="ana", password=oidc.SSO_MARK + "made-by-an-earlier-sign-in"
    )
    ana.groups.add(stale)
    # A local account of the same name as a provider's user: never taken over.
    get_user_model().objects.create_user("root", password="local-password-0123")
    return provider


@contextmanager
def browser_page():
    """A Chromium page, closed on leaving: the ORM may be used again after it (Playwright's
    event loop makes Django refuse ORM calls while it runs). Chromium does not check the
    provider's minted certificate; tlsposture does (OIDC_CA_BUNDLE)."""
    path = chromium_path()
    if path is None:
        pytest.fail("chromium is not installed (Debian package `chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS, env=browser_env()
        )
        try:
            yield browser.new_context(ignore_https_errors=True).new_page()
        finally:
            browser.close()


def _sign_in(page, site: str, login: str) -> None:
    page.goto(site + "/instances/")
    assert "/login/" in page.url
    # Password logins are off: the page offers single sign-on only.
    assert page.locator("#id_password").count() == 0
    page.click("#sso")
    page.wait_for_url(re.compile(r"^https://127\.0\.0\.1:\d+/"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the provider's development form")
    page.click("button[type=submit]")
    consent = page.locator("button[type=submit]", has_text="Continue")
    consent.wait_for()
    consent.click()


def test_sign_in_through_the_provider_shows_only_the_teams_accounts(
    live_server,
    fleet,
    screenshot,  # noqa: F811
):
    with browser_page() as page:
        _sign_in(page, live_server.url, "ana")
        page.wait_for_url(live_server.url + "/instances/")  # back where the user was going
        rows = page.locator("#instance-table tbody td.col-identifier a").all_inner_texts()
        screenshot(page, "signed-in")
    assert rows == ["pay-db"]
    # The groups claim set the teams: joined the claimed ones (created when missing), left
    # the one it no longer names.
    ana = get_user_model().objects.get(username="ana")
    assert sorted(ana.groups.values_list("name", flat=True)) == ["dba-on-call", "payments"]
    assert ana.email == "ana@example.com" and not ana.has_usable_password()


def test_a_local_account_is_never_taken_over_by_single_sign_on(live_server, fleet):
    with browser_page() as page:
        _sign_in(page, live_server.url, "root")
        page.wait_for_url(re.compile(re.escape(live_server.url) + r"/login/\?sso=failed"))
        message = page.locator("[role=alert]").inner_text()
    assert "did not complete" in message
    root = get_user_model().objects.get(username="root")
    assert root.has_usable_password() and not root.groups.exists()


def test_password_logins_are_refused_when_switched_off(client, provider):
    get_user_model().objects.create_user("dba", password="local-password-0123")
    response = client.post("/login/", {"username": "dba", "password": "local-password-0123"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_unreachable_provider_is_a_clear_message_not_an_error_page(client, settings):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OIDC_ISSUER = f"https://127.0.0.1:{port}"
    settings.OIDC_RP_CLIENT_ID = "tlsposture"
    oidc.forget_discovery()
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?sso=unavailable"
    page = client.get(response["Location"]).content.decode()
    assert "cannot be reached" in page and "Sign in with single sign-on" in page
    oidc.forget_discovery()


def test_without_an_issuer_there_is_no_single_sign_on(client):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert "single sign-on" not in client.get("/login/").content.decode()


def test_the_admin_signs_in_on_the_one_login_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    followed = client.get(response["Location"])
    assert followed.status_code == 302
    assert followed["Location"] == "/login/?next=%2Fadmin%2F"


def test_only_accounts_single_sign_on_made_are_matched(db, settings):
    """`createsuperuser --noinput` makes an account without a usable password: a provider's
    user of that name must not become it."""
    settings.OIDC_USERNAME_CLAIM = "preferred_username"
    users = get_user_model().objects
    local = users.create_superuser("admin", "admin@example.com", password=None)
    assert not local.has_usable_password()
    backend = oidc.TeamsFromClaims()
    with pytest.raises(SuspiciousOperation):
        backend.filter_users_by_claims({"preferred_username": "admin"})
    made = backend.create_user({"preferred_username": "ana", "email": "ana@example.com"})
    assert not made.has_usable_password()
    assert list(backend.filter_users_by_claims({"preferred_username": "ana"})) == [made]
