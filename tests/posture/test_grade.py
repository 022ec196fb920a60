"""Grade: lowest cap of open findings, the A+ rule, `?`, and undecided findings kept open."""

from __future__ import annotations

from datetime import timedelta

from checker.evidence import ACCEPTED, UNTESTED, Verdict
from posture.catalogue import CATALOGUE
from posture.facts import InstanceFacts
from posture.rules import RULES, evaluate
from tests.posture.builders import NOW, aws_mysql, checked, clean_evidence, iso, leaf, param


def test_every_catalogue_id_has_exactly_one_rule():
    assert list(RULES) == [entry.id for entry in CATALOGUE]


def test_clean_check_of_an_enforcing_instance_is_a_plus():
    evaluation = evaluate(checked(aws_mysql()), NOW)
    assert (evaluation.grade, evaluation.findings, evaluation.a_plus_blockers) == ("A+", (), ())


def test_api_facts_alone_never_vouch_for_a_and_say_what_is_missing():
    evaluation = evaluate(aws_mysql(), NOW)
    assert evaluation.grade == "B"
    (incomplete,) = evaluation.findings
    assert (incomplete.id, incomplete.severity, incomplete.cap) == (
        "evidence.incomplete",
        "medium",
        "B",
    )
    (missing,) = incomplete.evidence["missing"]
    assert missing["fact"] == "fresh live probe" and missing["why"] == "never checked"
    assert missing["supplied_by"].startswith(
        "a network path from a checker of network zone 'default' to "
        "orders-db.abc.us-east-1.rds.amazonaws.com:3306"
    )
    assert "checker profile matching 'prod-aws/orders-db'" in missing["supplied_by"]
    # The page's "between this endpoint and A+" says the same, first.
    assert evaluation.a_plus_blockers[0] == (
        f"fresh live probe missing (never checked); supplied by {missing['supplied_by']}"
    )
    assert "- fresh live probe (never checked): a network path" in incomplete.remediation


def test_a_stale_probe_and_unknown_enforcement_are_both_listed():
    evidence = clean_evidence()
    del evidence.session.variables["require_secure_transport"]
    facts = checked(
        aws_mysql(
            parameters=(), lookup_errors=(("parameters", "AccessDenied (DescribeDBParameters)"),)
        ),
        evidence,
        at=NOW - timedelta(hours=27),
    )
    evaluation = evaluate(facts, NOW)
    incomplete = next(f for f in evaluation.findings if f.id == "evidence.incomplete")
    probe, transport = incomplete.evidence["missing"]
    assert probe["why"].endswith("is older than 26 hours (TLSPOSTURE_STALE_AFTER_HOURS)")
    assert "check_tls --instance prod-aws/orders-db" in probe["supplied_by"]
    assert transport["fact"] == "transport enforcement"
    assert transport["supplied_by"].startswith(
        "the cloud permission rds:DescribeDBParameters and rds:DescribeEngineDefaultParameters; "
        "or checker credentials in a checker profile matching 'prod-aws/orders-db'"
    )
    assert evaluation.grade == "B"


def test_a_fresh_probe_without_a_login_needs_a_known_enforcement_for_a():
    evidence = clean_evidence()
    evidence.session.outcome, evidence.session.reason = "auth-failed", "1045 access denied"
    facts = checked(aws_mysql(parameters=(), parent_identifier="ledger"), evidence)
    incomplete = next(f for f in evaluate(facts, NOW).findings if f.id == "evidence.incomplete")
    (transport,) = incomplete.evidence["missing"]
    assert transport["supplied_by"].startswith(
        "a working login for the checker account (CREATE USER … REQUIRE SSL"
    )
    assert "was refused (1045 access denied)" in transport["supplied_by"]


def test_no_evidence_at_all_is_question_mark():
    bare = InstanceFacts(
        instance_id=9,
        provider="aws",
        account="prod-aws",
        region="us-east-1",
        kind="instance",
        identifier="new-db",
        engine="mysql",
    )
    assert evaluate(bare, NOW).grade == "?"


def test_a_finding_from_api_facts_alone_still_grades():
    bare = aws_mysql(parameters=(), server_cert_not_after=NOW - timedelta(days=1))
    assert evaluate(bare, NOW).grade == "F"


def test_lowest_cap_wins():
    facts = aws_mysql(
        parameters=(param("require_secure_transport", "0"), param("tls_version", "TLSv1.1,TLSv1.2"))
    )
    evaluation = evaluate(facts, NOW)
    assert {f.id: f.cap for f in evaluation.findings} == {
        "transport.not_enforced": "C",
        "protocol.legacy_tls": "B",
        "protocol.no_tls13": "A",
        "evidence.incomplete": "B",  # never checked
    }
    assert evaluation.grade == "C"


def test_a_plus_blocked_by_a_non_aead_suite_without_any_finding():
    evidence = clean_evidence()
    evidence.probe.cipher_classes["non_aead"] = Verdict(ACCEPTED, suite="ECDHE-RSA-AES128-SHA")
    evaluation = evaluate(checked(aws_mysql(), evidence), NOW)
    assert evaluation.findings == ()
    assert evaluation.grade == "A"
    assert evaluation.a_plus_blockers == ("cipher classes not seen refused: non_aead",)


def test_a_plus_blocked_by_an_untested_legacy_protocol():
    evidence = clean_evidence()
    evidence.probe.protocols["TLSv1.0"] = Verdict(UNTESTED, detail="budget")
    assert evaluate(checked(aws_mysql(), evidence), NOW).grade == "A"


def test_a_plus_allows_a_low_finding_but_needs_30_days():
    evidence = clean_evidence()
    evidence.probe.chain = [leaf(not_after=iso(NOW + timedelta(days=60)))]
    evaluation = evaluate(checked(aws_mysql(), evidence), NOW)
    assert [(f.id, f.severity) for f in evaluation.findings] == [("cert.expiring", "low")]
    assert evaluation.grade == "A+"
    evidence.probe.chain = [leaf(not_after=iso(NOW + timedelta(days=29)))]
    assert evaluate(checked(aws_mysql(), evidence), NOW).grade == "B"


def test_a_plus_needs_enforced_transport():
    evidence = clean_evidence()
    evidence.session.variables["require_secure_transport"] = "OFF"
    facts = aws_mysql(parameters=(param("require_secure_transport", "0"),))
    assert evaluate(checked(facts, evidence), NOW).grade == "C"


def test_undecided_open_finding_is_carried_and_still_caps():
    evidence = clean_evidence()
    evidence.probe.cipher_classes["broken"] = Verdict(UNTESTED, detail="deadline")
    facts = checked(aws_mysql(open_findings=(("cipher.broken", "high"),)), evidence)
    evaluation = evaluate(facts, NOW)
    assert evaluation.carried == (("cipher.broken", "high"),)
    assert evaluation.open_ids == ["cipher.broken"]
    assert evaluation.grade == "C"


def test_decided_clear_open_finding_is_not_carried():
    facts = checked(aws_mysql(open_findings=(("cipher.broken", "high"),)))
    evaluation = evaluate(facts, NOW)
    assert evaluation.carried == () and evaluation.grade == "A+"


def test_summary_reports_unknowns_with_reasons():
    summary = evaluate(aws_mysql(), NOW).summary
    assert summary.transport_enforced is True
    assert summary.transport_enforced_source == "api:parameter-group"
    assert summary.tls_versions_configured == ["TLSv1.2", "TLSv1.3"]
    assert summary.tls_versions_accepted is None
    assert summary.unknowns == {"tls_versions_accepted": "never checked"}
    checked_summary = evaluate(checked(aws_mysql()), NOW).summary
    assert checked_summary.tls_versions_accepted == ["TLSv1.2", "TLSv1.3"]
    assert checked_summary.lowest_tls_accepted == "TLSv1.2"
    assert checked_summary.transport_enforced_source == "live-variable"
