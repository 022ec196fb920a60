"""build_digest is pure: plain rows in, a digest out. These tests need no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.digest import (
    CertificateAuthorityRow,
    DigestRows,
    Endpoint,
    FindingRow,
    GradeChangeRow,
    PendingActionRow,
    ServerCertificateRow,
    build_digest,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=1)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
THRESHOLDS = [90, 30, 7]


def endpoint(identifier: str, n: int = 1) -> Endpoint:
    return Endpoint(n, identifier, "prod-aws", "us-east-1")


def api_cert(identifier: str, not_after: datetime | None, n: int = 1) -> ServerCertificateRow:
    return ServerCertificateRow(endpoint(identifier, n), None, "", not_after, "api")


def digest(**rows) -> object:
    return build_digest(DigestRows(**rows), now=NOW, since=SINCE, thresholds_days=THRESHOLDS)


def placed(result) -> dict[str, str]:
    """{certificate name: group label}"""
    return {c.name: g.label for g in result.expiry_groups for c in g.certificates}


def test_each_certificate_is_grouped_by_the_smallest_threshold_it_is_within():
    result = digest(
        server_certificates=[
            api_cert("expiring-now", NOW),
            api_cert("seven-days-exactly", NOW + 7 * DAY),
            api_cert("just-past-seven", NOW + 7 * DAY + SECOND),
            api_cert("ninety-days-exactly", NOW + 90 * DAY),
            api_cert("beyond-ninety", NOW + 90 * DAY + SECOND),
            api_cert("long-expired", NOW - 400 * DAY),
        ]
    )
    assert placed(result) == {
        "expiring-now": "Expired",
        "long-expired": "Expired",
        "seven-days-exactly": "Within 7 days",
        "just-past-seven": "Within 30 days",
        "ninety-days-exactly": "Within 90 days",
    }
    assert [g.within_days for g in result.expiry_groups] == [None, 7, 30, 90]


def test_newly_crossed_means_a_more_urgent_bucket_than_at_the_previous_digest():
    result = digest(
        server_certificates=[
            # 30-day boundary (not_after - 30 d) fell between the previous digest and now.
            api_cert("crossed-30", NOW + 30 * DAY - timedelta(hours=3)),
            # Already within 30 days at the previous digest.
            api_cert("still-30", NOW + 20 * DAY),
            api_cert("expired-since", NOW - timedelta(hours=1)),
            api_cert("expired-before", NOW - 2 * DAY),
            # Entered the list (90-day boundary) since the previous digest.
            api_cert("entered-90", NOW + 90 * DAY - SECOND),
        ]
    )
    new = {c.name for g in result.expiry_groups for c in g.certificates if c.newly_crossed}
    assert new == {"crossed-30", "expired-since", "entered-90"}
    assert result.has_newly_crossed


def test_unknown_expiry_is_never_listed_least_of_all_as_expired():
    result = digest(
        server_certificates=[api_cert("no-date", None)],
        certificate_authorities=[
            CertificateAuthorityRow("rds-ca-unknown", "prod-aws", "us-east-1", None, ("a",))
        ],
    )
    assert result.expiry_groups == ()
    assert result.is_empty


def test_the_posture_engines_date_wins_over_the_api_date():
    live_first = ServerCertificateRow(
        endpoint("orders-db"), NOW + 3 * DAY, "live-wire", NOW + 300 * DAY, "api"
    )
    api_only = ServerCertificateRow(endpoint("billing-db", 2), None, "", NOW + 3 * DAY, "api")
    result = digest(server_certificates=[live_first, api_only])
    (group,) = result.expiry_groups
    assert [(c.name, c.source) for c in group.certificates] == [
        ("billing-db", "api"),
        ("orders-db", "live-wire"),
    ]


def test_a_ca_is_listed_once_with_the_endpoints_that_use_it():
    ca = CertificateAuthorityRow(
        "rds-ca-2019", "prod-aws", "us-east-1", NOW + 5 * DAY, ("reports-db", "orders-db")
    )
    (group,) = digest(certificate_authorities=[ca]).expiry_groups
    (cert,) = group.certificates
    assert (cert.kind, cert.name, cert.used_by, cert.endpoint) == (
        "CA",
        "rds-ca-2019",
        ("orders-db", "reports-db"),
        None,
    )
    assert (cert.days_left, cert.relative) == (5, "in 5 days")


@pytest.mark.parametrize(
    ("remaining", "phrase"),
    [
        (DAY + SECOND, "in 1 day"),
        (DAY / 2, "in less than a day"),
        (-DAY / 2, "less than a day ago"),
        (-2 * DAY - SECOND, "2 days ago"),
    ],
)
def test_relative_time_counts_whole_days(remaining, phrase):
    (group,) = digest(server_certificates=[api_cert("db", NOW + remaining)]).expiry_groups
    assert group.certificates[0].relative == phrase


def test_thresholds_are_deduplicated_and_ordered_and_must_be_positive():
    result = build_digest(DigestRows(), now=NOW, since=SINCE, thresholds_days=[7, 90, 30, 30])
    assert result.thresholds_days == (90, 30, 7)
    with pytest.raises(ValueError, match="positive threshold"):
        build_digest(DigestRows(), now=NOW, since=SINCE, thresholds_days=[0])


def test_pending_rotations_soonest_first_undated_last():
    rows = [
        PendingActionRow(endpoint("c"), "CA change", None, ""),
        PendingActionRow(endpoint("b"), "CA rotation", NOW + 10 * DAY, ""),
        PendingActionRow(endpoint("a"), "SSL renewal", NOW - 2 * DAY, "overdue"),
    ]
    rotations = digest(pending_actions=rows).rotations
    assert [(r.endpoint.identifier, r.days_left, r.relative) for r in rotations] == [
        ("a", -2, "2 days ago"),
        ("b", 10, "in 10 days"),
        ("c", None, ""),
    ]


def test_findings_first_seen_or_resolved_within_the_window():
    def finding(fid, severity, first_seen, resolved_at=None):
        return FindingRow(endpoint("db"), fid, severity, first_seen, resolved_at)

    result = digest(
        findings=[
            finding("at-since", "high", SINCE),  # the window is (since, now]
            finding("at-now", "low", NOW),
            finding("new-critical", "critical", SINCE + SECOND),
            finding("old-resolved", "high", NOW - 9 * DAY, NOW - DAY / 2),
            finding("old-resolved-earlier", "high", NOW - 9 * DAY, SINCE),
        ]
    )
    assert [f.finding_id for f in result.new_findings] == ["new-critical", "at-now"]
    assert [f.finding_id for f in result.resolved_findings] == ["old-resolved"]


def test_grade_drops_are_the_net_change_over_the_window():
    def change(identifier, previous, grade, hours_ago):
        return GradeChangeRow(
            endpoint(identifier), previous, grade, NOW - timedelta(hours=hours_ago)
        )

    result = digest(
        grade_changes=[
            change("dropped-then-partly-back", "A", "C", 5),
            change("dropped-then-partly-back", "C", "B", 2),
            change("dropped-and-recovered", "A", "F", 5),
            change("dropped-and-recovered", "F", "A", 1),
            change("lost-evidence", "A", "?", 3),
            change("first-grade", "", "F", 3),
            change("dropped-before-window", "A", "F", 30),
            change("to-f", "A+", "F", 4),
        ]
    )
    assert [(d.endpoint.identifier, d.from_grade, d.to_grade) for d in result.grade_drops] == [
        ("to-f", "A+", "F"),
        ("dropped-then-partly-back", "A", "B"),
    ]


def test_an_empty_digest_says_so():
    result = digest(server_certificates=[api_cert("far", NOW + 200 * DAY)])
    assert result.is_empty
    assert result.summary == "nothing expiring, no changes"


def test_summary_counts_each_section():
    result = digest(
        server_certificates=[api_cert("a", NOW - DAY), api_cert("b", NOW + DAY, 2)],
        pending_actions=[PendingActionRow(endpoint("a"), "CA rotation", None, "")],
        findings=[FindingRow(endpoint("a"), "tls.unavailable", "critical", NOW, None)],
    )
    assert result.summary == "1 expired, 1 within 7 days, 1 pending rotation, 1 new finding"
