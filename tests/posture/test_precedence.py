"""docs/design.md "Evidence and precedence": running = fresh live, else API, else stale live;
after reboot = API; ApsaraDB enabled and enforced are never merged."""

from __future__ import annotations

from datetime import timedelta

from posture.effective import EffectiveFacts as View
from posture.facts import Policy
from tests.posture.builders import NOW, aliyun_mysql, aws_mysql, checked, clean_evidence, param


def _live_off(**kw):
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    return checked(aws_mysql(**kw), evidence, at=kw.pop("at", NOW - timedelta(hours=1)))


def test_fresh_live_variable_is_what_runs_and_the_api_is_what_runs_after_reboot():
    view = View(_live_off(), NOW)
    running = view.running("require_secure_transport")
    assert (running.value, running.source, running.raw) == (False, "live-variable", "OFF")
    after_reboot = view.api("require_secure_transport")
    assert (after_reboot.value, after_reboot.source) == (True, "api:parameter-group")


def test_stale_live_variable_gives_way_to_the_api():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    facts = checked(aws_mysql(), evidence, at=NOW - timedelta(hours=30))
    running = View(facts, NOW).running("require_secure_transport")
    assert (running.value, running.source) == (True, "api:parameter-group")
    # The freshness window comes from the policy (settings: STALE_AFTER_HOURS).
    wide = View(facts, NOW, Policy(live_fresh_for=timedelta(hours=48)))
    assert wide.running("require_secure_transport").source == "live-variable"


def test_stale_live_variable_is_used_when_the_api_states_nothing():
    evidence = clean_evidence()
    facts = checked(aws_mysql(parameters=()), evidence, at=NOW - timedelta(days=3))
    running = View(facts, NOW).running("tls_version")
    assert (running.value, running.stale) == (["TLSv1.2", "TLSv1.3"], True)


def test_an_api_change_after_the_check_supersedes_the_live_reading():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    changed = param("require_secure_transport", "1", updated_at=NOW - timedelta(minutes=5))
    facts = checked(aws_mysql(parameters=(changed,)), evidence, at=NOW - timedelta(hours=1))
    assert View(facts, NOW).running("require_secure_transport").source == "api:parameter-group"


def test_missing_value_means_the_engine_default_not_off():
    unset = param("require_secure_transport", None, set_by="engine-default")
    mariadb_118 = aws_mysql(engine="mariadb", engine_version="11.8.3", parameters=(unset,))
    fact = View(mariadb_118, NOW).api("require_secure_transport")
    assert (fact.value, fact.source) == (True, "engine-default")
    mysql = View(aws_mysql(parameters=(unset,)), NOW).api("require_secure_transport")
    assert mysql.value is False


def test_apsaradb_force_encryption_or_running_variable_enforces():
    forced = View(aliyun_mysql(ssl_forced=True), NOW).transport_enforced
    assert (forced.value, forced.source) == (True, "api:apsaradb-ssl")
    on = aliyun_mysql(
        ssl_forced=False,
        parameters=(
            param("require_secure_transport", "ON", source="api:apsaradb-parameters", set_by=""),
        ),
    )
    variable = View(on, NOW).transport_enforced
    assert (variable.value, variable.source) == (True, "api:apsaradb-parameters")
    # Enabled alone is never enforced, and one unknown half leaves the answer unknown.
    assert View(aliyun_mysql(ssl_enabled=True), NOW).transport_enforced.value is False
    assert View(aliyun_mysql(ssl_forced=None), NOW).transport_enforced.known is False


def test_server_certificate_and_ca_are_separate_facts():
    view = View(aws_mysql(), NOW)
    assert view.server_cert_not_after.value.year == 2027
    assert view.facts.ca.valid_till.year == 2061


def test_evidence_keeps_raw_value_source_and_time():
    fact = View(_live_off(), NOW).running("require_secure_transport")
    assert fact.evidence() == {
        "raw": "OFF",
        "value": False,
        "source": "live-variable",
        "at": "2026-11-23T07:00:00Z",
    }
