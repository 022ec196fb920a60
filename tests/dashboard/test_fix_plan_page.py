"""The instance page answers first: what caps the grade, one fix plan with its impact, and
evidence as plain facts with the raw JSON behind a disclosure."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.urls import reverse

from inventory.models import DBInstance

pytestmark = pytest.mark.django_db


def _page(client, identifier: str) -> str:
    instance = DBInstance.objects.get(identifier=identifier)
    response = client.get(reverse("dashboard:instance", args=[instance.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}".*?</section>', html, re.S).group(0)


def test_the_fix_plan_comes_first_with_its_impact(viewer_client, world):
    html = _page(viewer_client, "legacy-db")
    assert html.index('id="fix-plan"') < html.index('id="summary"') < html.index('id="findings"')
    plan = _section(html, "fix-plan")
    assert 'data-copy-target="fix-plan-script"' in plan
    script = re.search(r'<pre id="fix-plan-script" class="script">(.*?)</pre>', plan, re.S)
    text = script.group(1).replace("&quot;", '"').replace("&#x27;", "'").replace("&lt;", "<")
    text = text.replace("&gt;", ">").replace("&amp;", "&")
    assert text.count("aws rds modify-db-parameter-group --db-parameter-group-name orders-tls") == 1
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    impact = re.search(r'<dl class="facts impact".*?</dl>', plan, re.S).group(0)
    # legacy-db's group is shared: the change reaches the other endpoints on it.
    assert "<code>orders-tls</code> is also used by 3 other endpoints" in impact
    for other in ("expiring-db", "orders-db", "rotation-db"):
        assert f"<code>{other}</code>" in impact
    assert "eu-db" not in impact  # another region, another group
    # No check has read legacy-db's clients: unknown, with why (never "none").
    assert (
        'class="unknown">unknown: no check logged in and read the client connections within '
        "30 days (TLSPOSTURE_CLIENT_WINDOW_DAYS)</dd>"
    ) in impact


def test_the_grade_says_what_caps_it(viewer_client, world):
    html = _page(viewer_client, "rotation-db")
    cap = re.search(r'<p id="grade-cap" class="grade-cap">(.*?)</p>', html, re.S).group(1)
    assert "F — capped by ca.expired: expired 2024-08-22" in cap
    plan = _section(html, "fix-plan")
    assert "rds-ca-rsa2048-g1 (in https://truststore.pki.rds.amazonaws.com" in plan
    assert "--ca-certificate-identifier restarts the instance" in plan


def test_evidence_reads_as_plain_facts_raw_json_behind_a_disclosure(viewer_client, world):
    html = _page(viewer_client, "legacy-db")
    finding = re.search(
        r'<article class="finding finding-high" id="finding-transport.not_enforced">.*?</article>',
        html,
        re.S,
    ).group(0)
    facts = re.search(r'<ul class="plain-facts">(.*?)</ul>', finding, re.S).group(1)
    assert 1 <= facts.count("<li>") <= 4
    assert "source api" in finding  # where the fact came from, and when
    raw = re.search(r'<details class="raw">.*?</details>', finding, re.S).group(0)
    assert '<pre class="evidence">' in raw and '<pre class="remediation">' in raw


def test_a_clean_endpoint_has_nothing_to_change(viewer_client, world):
    plan = _section(_page(viewer_client, "orders-db"), "fix-plan")
    assert "No open findings: nothing to change." in plan


def test_favicon_is_served_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_no_template_comment_leaks_into_a_page(viewer_client, world):
    for url in ("/", "/instances/", "/findings/"):
        html = viewer_client.get(url).content.decode()
        assert "{#" not in html and "{% comment" not in html, url
        assert "HTMX reads this" not in html
