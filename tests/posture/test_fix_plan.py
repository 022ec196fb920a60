"""The fix plan: every open finding's remediation merged into one ordered script per endpoint
(one group change, one certificate change, one reboot, prose as comments) and its impact."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from checker.evidence import ACCEPTED, Verdict
from posture.effective import EffectiveFacts
from posture.facts import CertificateAuthority
from posture.fix_plan import UNKNOWN_CLIENTS, OpenFinding, build_fix_plan
from posture.rules import evaluate
from tests.posture.builders import NOW, aliyun_mysql, aws_mysql, checked, clean_evidence, param


def _plan(facts):
    findings = [OpenFinding(f.id, f.evidence, f.remediation) for f in evaluate(facts, NOW).findings]
    return build_fix_plan(EffectiveFacts(facts, NOW), findings), findings


def _crm_legacy():
    """A default group, TLS not enforced, TLS 1.0 and a static-RSA suite accepted, on a
    retired CA: four findings whose remediations each create the same custom group."""
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.0"] = Verdict(ACCEPTED, suite="AES128-SHA")
    evidence.probe.cipher_classes["static_rsa"] = Verdict(ACCEPTED, suite="AES128-SHA")
    evidence.session.variables.update(require_secure_transport="OFF")
    facts = aws_mysql(
        identifier="crm-legacy",
        parameter_group="default.mysql8.0",
        parameter_group_is_default=True,
        parameters=(
            param("require_secure_transport", "0", source_name="default.mysql8.0"),
            param("tls_version", "TLSv1,TLSv1.1,TLSv1.2", source_name="default.mysql8.0"),
        ),
        ca_identifier="rds-ca-2019",
        ca=CertificateAuthority("rds-ca-2019", datetime(2024, 8, 22, tzinfo=UTC)),
    )
    return checked(facts, evidence)


def test_one_group_change_one_ca_change_one_reboot_last():
    plan, findings = _plan(_crm_legacy())
    ids = {f.finding_id for f in findings}
    assert {"transport.not_enforced", "protocol.legacy_tls", "ca.deprecated"} <= ids
    # Each finding alone creates the group; the plan does it once.
    assert sum("create-db-parameter-group" in f.remediation for f in findings) >= 2
    script = plan.script.splitlines()
    assert sum("create-db-parameter-group" in line for line in script) == 1
    [modify] = [line for line in script if "modify-db-parameter-group" in line]
    for name in ("require_secure_transport", "tls_version", "ssl_cipher"):
        assert f"ParameterName={name}," in modify
    assert sum("--ca-certificate-identifier" in line for line in script) == 1
    reboots = [n for n, line in enumerate(script) if "reboot-db-instance" in line]
    assert len(reboots) == 1 and reboots[0] == len(script) - 1
    # Prose is a comment: no line of the script is a sentence a shell would run.
    for line in script:
        assert line.startswith(("# ", "aws rds ")), line
    assert plan.group_changed == ""  # a new custom group, shared with no one


def test_the_script_is_valid_shell():
    plan, _ = _plan(_crm_legacy())
    subprocess.run(["bash", "-n"], input=plan.script, text=True, check=True)


def test_impact_names_the_restart_the_ca_and_unknown_clients():
    plan, _ = _plan(_crm_legacy())
    assert any("tls_version" in why and "static" in why for why in plan.restart)
    assert any("--ca-certificate-identifier restarts" in why for why in plan.restart)
    assert plan.ca_to_trust.startswith("rds-ca-rsa2048-g1 (in https://truststore.pki.rds")
    assert "Before you start: clients that verify the server must trust rds-ca-rsa2048-g1" in (
        plan.script
    )
    assert plan.clients_that_would_fail is None and plan.clients_text == UNKNOWN_CLIENTS


def test_a_shared_custom_group_is_named_and_a_dynamic_change_needs_no_restart():
    evidence = clean_evidence()
    evidence.session.variables.update(require_secure_transport="OFF")
    facts = checked(
        aws_mysql(
            parameter_group="staging-mysql80-enforced",
            parameters=(param("require_secure_transport", "0"),),
        ),
        evidence,
    )
    plan, _ = _plan(facts)
    assert plan.group_changed == "staging-mysql80-enforced"
    assert plan.restart == [] and "reboot-db-instance" not in plan.script
    assert plan.parameters == {"require_secure_transport": "1"}


def test_sql_runs_in_one_verified_session():
    evidence = clean_evidence()
    from checker.evidence import ReplicationChannel, ReplicationReadout

    evidence.session.replication = ReplicationReadout(
        state="ok", channels=[ReplicationChannel(name="a", ssl_allowed="NO")]
    )
    plan, _ = _plan(checked(aws_mysql(), evidence))
    assert "--ssl-mode=VERIFY_IDENTITY <<'SQL'" in plan.script
    assert "\nSTOP REPLICA FOR CHANNEL 'a';" in plan.script
    subprocess.run(["bash", "-n"], input=plan.script, text=True, check=True)


def test_apsaradb_console_paths_are_comments():
    plan, _ = _plan(aliyun_mysql(server_cert_not_after=NOW + timedelta(days=20)))
    assert "aliyun rds ModifyDBInstanceSSL" in plan.script
    assert "\n# Console: ApsaraDB RDS console" in plan.script
    assert any("8.0 does not" in why for why in plan.restart)


def test_no_findings_no_plan():
    facts = checked(aws_mysql())
    assert build_fix_plan(EffectiveFacts(facts, NOW), []) is None


def test_an_alternative_stays_a_comment_not_a_second_step():
    """ApsaraDB enforces with ForceEncryption; setting the parameter is the fallback for old
    minor versions: commented out, so copying the script does not do both."""
    plan, _ = _plan(aliyun_mysql(ssl_forced=False))
    commands = [line for line in plan.script.splitlines() if not line.startswith("#")]
    assert any("ModifyDBInstanceSSL" in line and "--ForceEncryption 1" in line for line in commands)
    assert not any("ModifyParameter" in line for line in commands)
    assert "# aliyun rds ModifyParameter" in plan.script
    subprocess.run(["bash", "-n"], input=plan.script, text=True, check=True)
