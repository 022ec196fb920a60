""" "Check now" against a real fleet server: the press returns at once, the check runs off
the request thread, the status region polls until the new observation and grade arrive,
and a second press while it runs joins it instead of starting another."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from checker.models import CheckRun, Observation
from inventory.models import DBInstance
from tests.dashboard.fleet_endpoint import fleet_endpoint

pytestmark = [pytest.mark.fleet, pytest.mark.django_db(transaction=True)]

HTMX = {"HX-Request": "true", "HX-Target": "check-status"}


def _poll_until_settled(client, status_url: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fragment = client.get(status_url, headers={"HX-Request": "true"}).content.decode()
        if 'hx-trigger="every 2s"' not in fragment:
            return fragment
        time.sleep(0.2)
    raise AssertionError(f"no result within {seconds} s")


def _status_url(fragment: str) -> str:
    match = re.search(r'hx-get="([^"]+)" hx-trigger="every 2s"', fragment)
    assert match, fragment
    return match.group(1).replace("&amp;", "&")


def test_with_htmx_the_status_polls_until_the_new_result(admin_client, tls_fleet, monkeypatch):
    instance = fleet_endpoint(tls_fleet, monkeypatch)
    response = admin_client.post(reverse("dashboard:check-now", args=[instance.pk]), headers=HTMX)
    assert response.status_code == 200
    pressed = response.content.decode()
    assert pressed.lstrip().startswith('<div id="check-status"') and "Checking" in pressed

    result = _poll_until_settled(admin_client, _status_url(pressed))
    assert "New result:" in result and "checked" in result
    observation = Observation.objects.get(instance=instance)
    assert observation.status == "ok" and observation.run.trigger == "dashboard"
    instance = DBInstance.objects.select_related("posture").get(pk=instance.pk)
    assert instance.posture.evaluated_at >= observation.checked_at  # posture followed
    assert instance.posture.grade in result
    page = admin_client.get(reverse("dashboard:instance", args=[instance.pk])).content.decode()
    assert '<span class="verdict verdict-accepted tone-good">accepted' in page  # new evidence
    assert tls_fleet["enforced"].checker.password not in page + result


def test_two_presses_while_a_check_runs_start_one_check(admin_client, tls_fleet, monkeypatch):
    instance = fleet_endpoint(tls_fleet, monkeypatch)
    url = reverse("dashboard:check-now", args=[instance.pk])
    first = admin_client.post(url, headers=HTMX).content.decode()
    second = admin_client.post(url, headers=HTMX).content.decode()
    assert "already running" in second
    _poll_until_settled(admin_client, _status_url(first))
    assert CheckRun.objects.count() == 1
    assert Observation.objects.filter(instance=instance).count() == 1


def test_without_javascript_the_press_redirects_back_with_a_message(
    admin_client, tls_fleet, monkeypatch
):
    instance = fleet_endpoint(tls_fleet, monkeypatch)
    response = admin_client.post(reverse("dashboard:check-now", args=[instance.pk]), follow=True)
    assert response.redirect_chain == [(reverse("dashboard:instance", args=[instance.pk]), 302)]
    page = response.content.decode()
    assert "Check started; reload this page" in page
    assert 'hx-trigger="every 2s"' in page  # a reload while it runs keeps waiting
    _poll_until_settled(admin_client, _status_url(page))
    reloaded = admin_client.get(reverse("dashboard:instance", args=[instance.pk])).content.decode()
    assert "Last check: checked" in reloaded


def test_an_endpoint_that_cannot_be_checked_says_why(admin_client, tls_fleet, monkeypatch):
    instance = fleet_endpoint(tls_fleet, monkeypatch)
    DBInstance.objects.filter(pk=instance.pk).update(endpoint_host="")
    pressed = admin_client.post(
        reverse("dashboard:check-now", args=[instance.pk]), headers=HTMX
    ).content.decode()
    result = _poll_until_settled(admin_client, _status_url(pressed))
    assert "The check could not run" in result and "no endpoint address" in result
    assert not Observation.objects.exists()


def test_a_mysql_8_replicas_channel_is_shown_as_the_persona_reports_it(
    admin_client, mysql8_fleet, monkeypatch
):
    # The MySQL 8 persona (fleet/mysql8/): a channel restricted to TLS 1.3 and CCM_8.
    instance = fleet_endpoint(mysql8_fleet, monkeypatch, "mysql80_replica_ccm8")
    pressed = admin_client.post(
        reverse("dashboard:check-now", args=[instance.pk]), headers=HTMX
    ).content.decode()
    _poll_until_settled(admin_client, _status_url(pressed))
    page = admin_client.get(reverse("dashboard:instance", args=[instance.pk])).content.decode()
    row = re.search(r"<tr><td>ccm8</td>.*?</tr>", page)
    assert row, page
    cells = re.findall(r"<td>(.*?)</td>", row.group(0))
    assert cells[2:] == ["YES", "yes", "TLSv1.3", "TLS_AES_128_CCM_8_SHA256"]
    assert mysql8_fleet["mysql80_replica_ccm8"].checker.password not in page
