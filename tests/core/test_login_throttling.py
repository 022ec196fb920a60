"""Hardening from issue 14: logins are throttled per username and per client address, staff
lift a lockout in the admin, and every page carries the Content-Security-Policy."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-for-tests-9"


@pytest.fixture
def dba():
    return get_user_model().objects.create_user("dba", password=PASSWORD)


def _login(username: str, password: str, address: str = "127.0.0.2", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def _fail(times: int, username: str = "dba", address: str = "127.0.0.2", **headers) -> list:
    """Wrong passwords; the status of each answer (200: the form again, 429: locked out)."""
    return [_login(username, "wrong", address, **headers)[1].status_code for _ in range(times)]


def test_a_username_is_locked_after_the_limit_from_any_address(dba, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    # A distributed guess: a new address each time.
    assert [_fail(1, address=f"127.0.0.{20 + n}")[0] for n in range(4)] == [200] * 4
    client, response = _login("dba", PASSWORD, "127.0.0.3")
    assert response.status_code == 302  # under the limit the right password still works
    client.post(reverse("logout"))
    statuses = [_fail(1, address=f"127.0.0.{30 + n}")[0] for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    _, response = _login("dba", PASSWORD, "127.0.0.5")  # right password, other address
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert PASSWORD.encode() not in response.content


def test_an_address_is_locked_whatever_username_it_tries(dba):
    statuses = [_fail(1, username=f"guess-{n}", address="127.0.0.6")[0] for n in range(5)]
    assert statuses[-1] == 429
    _, response = _login("dba", PASSWORD, "127.0.0.6")
    assert response.status_code == 429
    _, response = _login("dba", PASSWORD, "127.0.0.7")  # the user, from elsewhere
    assert response.status_code == 302


def test_a_forwarded_for_header_counts_only_behind_a_trusted_proxy(dba, settings):
    # Untrusted: a client cannot pick a fresh "address" per attempt.
    for n in range(5):
        _fail(1, username=f"guess-{n}", address="127.0.0.8", HTTP_X_FORWARDED_FOR=f"127.9.0.{n}")
    assert _login("dba", PASSWORD, "127.0.0.8")[1].status_code == 429
    # Behind a trusted proxy the client's own address (rightmost untrusted) is what counts.
    settings.TRUSTED_PROXIES = ["127.0.0.9"]
    for n in range(5):
        _fail(1, username=f"other-{n}", address="127.0.0.9", HTTP_X_FORWARDED_FOR="127.1.1.1")
    blocked = _login("dba", PASSWORD, "127.0.0.9", HTTP_X_FORWARDED_FOR="127.1.1.1")[1]
    assert blocked.status_code == 429
    other_client = _login("dba", PASSWORD, "127.0.0.9", HTTP_X_FORWARDED_FOR="127.1.1.2")[1]
    assert other_client.status_code == 302


def test_staff_lift_a_lockout_in_the_admin(dba):
    _fail(5)
    assert _login("dba", PASSWORD, "127.0.0.3")[1].status_code == 429
    helpdesk = get_user_model().objects.create_user("helpdesk", password="pw-x", is_staff=True)
    helpdesk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="axes",
            codename__in=["view_accessattempt", "delete_accessattempt"],
        )
    )
    staff = Client()
    staff.force_login(helpdesk)
    changelist = reverse("admin:axes_accessattempt_changelist")
    listing = staff.get(changelist)
    assert listing.status_code == 200 and b"dba" in listing.content
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts
    confirm = {"action": "delete_selected", "_selected_action": attempts}
    assert staff.post(changelist, confirm).status_code == 200  # "are you sure?"
    done = staff.post(changelist, {**confirm, "post": "yes"})
    assert done.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert _login("dba", PASSWORD, "127.0.0.3")[1].status_code == 302


def test_every_page_sends_the_content_security_policy(dba):
    client = Client()
    pages = [reverse("login")]
    for path in pages:
        policy = client.get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
        assert "unsafe" not in policy
    client.force_login(dba)
    for path in ["/", "/instances/", "/certificates/", "/findings/", "/runs/",
                 "/notifications/subscriptions/"]:  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"], path


def test_the_csrf_failure_page_needs_no_inline_style():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page and "<style" not in page and "style=" not in page
    assert "script-src 'self'" in response["Content-Security-Policy"]
