"""The instance list: each filter, sorting both ways, pagination, the URL as the state,
and HTMX asking for just the table region."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:instances")


def _names(client, query: str = "", **headers) -> list[str]:
    response = client.get(URL + query, headers=headers)
    assert response.status_code == 200
    return [row.data["identifier"] for row in response.context["listing"].rows]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"orders-db", "legacy-db", "expiring-db", "rotation-db", "eu-db", "rm-orders"}),
        ("?provider=aliyun", {"rm-orders"}),
        ("?account=prod-aws&region=eu-west-1", {"eu-db"}),
        ("?engine=mariadb", {"expiring-db"}),
        ("?engine_version=10.11.9", {"expiring-db"}),
        ("?grade=C", {"legacy-db", "expiring-db", "rm-orders"}),
        ("?grade=A%2B", {"orders-db"}),
        ("?grade=%3F", {"eu-db"}),
        ("?enforcement=not-enforced", {"legacy-db", "rm-orders"}),
        ("?enforcement=enforced", {"orders-db", "expiring-db", "rotation-db"}),
        ("?enforcement=unknown", {"eu-db"}),
        ("?lowest_tls=TLSv1.2", {"orders-db"}),
        ("?lowest_tls=unknown&region=us-east-1", {"legacy-db", "expiring-db", "rotation-db"}),
        ("?cert_expires=7", {"expiring-db"}),
        ("?cert_expires=90", {"expiring-db", "legacy-db"}),
        ("?cert_expires=unknown", {"eu-db"}),
        ("?ca_expires=expired", {"rotation-db"}),
        ("?ca=rds-ca-2019", {"rotation-db"}),
        ("?finding=transport.not_enforced", {"legacy-db", "rm-orders"}),
        ("?severity=critical", {"rotation-db"}),
        ("?tag=env%3Dprod", {"orders-db", "expiring-db"}),
        ("?tag=env%3Dprod&engine=mysql", {"orders-db"}),
        ("?check=ok", {"orders-db"}),
        ("?check=never&provider=aws&region=us-east-1", {"legacy-db", "expiring-db", "rotation-db"}),
        ("?pending=yes", {"rotation-db"}),
        ("?q=ORDERS", {"orders-db", "rm-orders"}),
        ("?q=aliyuncs.com", {"rm-orders"}),
        ("?state=gone", {"old-db"}),
        ("?state=all&provider=aliyun", {"rm-orders", "old-db"}),
    ],
)
def test_each_filter_narrows_the_list(viewer_client, world, query, expected):
    assert set(_names(viewer_client, query)) == expected


def test_an_invalid_filter_is_reported_and_left_out(viewer_client, world):
    response = viewer_client.get(URL + "?grade=Z&tag=novalue&provider=aws")
    html = response.content.decode()
    assert "Select a valid choice" in html and "Write a tag as key=value." in html
    assert len(response.context["listing"].rows) == 5  # provider=aws still applies


def test_sorting_by_grade_both_ways_keeps_unknown_last(viewer_client, world):
    grades = lambda q: [  # noqa: E731
        r.data["grade"] for r in viewer_client.get(URL + q).context["listing"].rows
    ]
    assert grades("?sort=grade") == ["F", "C", "C", "C", "A+", "?"]  # worst first
    assert grades("?sort=-grade") == ["A+", "C", "C", "C", "F", "?"]


def test_sorting_by_certificate_expiry_puts_unknown_last(viewer_client, world):
    assert _names(viewer_client, "?sort=server_cert_not_after")[:2] == ["expiring-db", "legacy-db"]
    assert _names(viewer_client, "?sort=server_cert_not_after")[-1] == "eu-db"
    assert _names(viewer_client, "?sort=-server_cert_not_after")[-1] == "eu-db"


def test_sorting_by_name_and_an_unknown_sort_falls_back_to_report_order(viewer_client, world):
    assert _names(viewer_client, "?sort=-identifier")[0] == "rotation-db"
    assert _names(viewer_client, "?sort=nonsense") == _names(viewer_client)
    assert _names(viewer_client)[0] == "rm-orders"  # cn-aliyun sorts before prod-aws


def test_sortable_headers_are_links_that_toggle_and_keep_the_filters(viewer_client, world):
    html = viewer_client.get(URL + "?provider=aws&sort=grade&page=1").content.decode()
    grade = re.search(r'<th scope="col" aria-sort="ascending"><a href="([^"]+)"', html)
    assert grade and grade.group(1) == "?provider=aws&amp;sort=-grade"
    assert 'href="?provider=aws&amp;sort=engine"' in html


def test_pagination_keeps_filters_and_sort_and_clamps_past_the_end(viewer_client, world):
    first = _names(viewer_client, "?per_page=25&sort=identifier")
    assert len(first) == 6
    response = viewer_client.get(URL + "?sort=identifier&per_page=25&page=99")
    assert response.context["listing"].page.number == 1  # only one page: the last
    assert viewer_client.get(URL + "?per_page=7").context["listing"].per_page == 50


def test_pages_split_a_longer_list(viewer_client, world):
    from fleet.synthetic import seed_fleet

    seed_fleet(240)  # 60 more in prod-aws: 65 there
    first = viewer_client.get(URL + "?sort=identifier&account=prod-aws")
    listing = first.context["listing"]
    assert listing.page.paginator.num_pages == 2 and len(listing.rows) == 50
    assert 'href="?sort=identifier&amp;account=prod-aws&amp;page=2"' in first.content.decode()
    second = viewer_client.get(URL + "?sort=identifier&account=prod-aws&page=2")
    names = [r.data["identifier"] for r in second.context["listing"].rows]
    assert len(names) == 15 and not set(names) & {r.data["identifier"] for r in listing.rows}
    assert 'aria-current="page" class="current">2<' in second.content.decode()


def test_htmx_gets_only_the_table_region_with_the_url_to_show(viewer_client, world):
    response = viewer_client.get(
        URL + "?grade=C&q=&sort=-grade",
        headers={"HX-Request": "true", "HX-Target": "instance-table"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="instance-table"')
    assert "<html" not in html and "<form" not in html
    assert response["HX-Push-Url"] == URL + "?grade=C&sort=-grade"
    assert "HX-Request" in response["Vary"] and "HX-Target" in response["Vary"]
    # a history restore gets the whole page
    restore = viewer_client.get(
        URL + "?grade=C",
        headers={
            "HX-Request": "true",
            "HX-Target": "instance-table",
            "HX-History-Restore-Request": "true",
        },
    )
    assert "<html" in restore.content.decode()


def test_the_page_works_without_javascript(viewer_client, world):
    html = viewer_client.get(URL).content.decode()
    assert '<form id="filters" class="filters" method="get" action="/instances/"' in html
    assert '<button type="submit">Apply</button>' in html
    # grades are letters and words, never colour alone
    assert "A+ — exemplary" in html and "F — failing" in html and "? — no evidence" in html
    assert '<time datetime="' in html
