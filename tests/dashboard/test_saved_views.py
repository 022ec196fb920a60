"""Saved views of the endpoint list: a user names the filters on screen and keeps them;
the list shows their views as links beside the ready-made ones; a view is its owner's only;
a stored query is read through the filterset again when applied."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.models import SavedView
from tests.dashboard.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIST = reverse("dashboard:instances")
SAVE = reverse("dashboard:view-save")
GRADE_C = {"legacy-db", "expiring-db", "rm-orders"}


def _names(response) -> set[str]:
    assert response.status_code == 200
    return {row.data["identifier"] for row in response.context["listing"].rows}


def _delete_url(view: SavedView) -> str:
    return reverse("dashboard:view-delete", args=[view.pk])


def test_save_list_apply_and_delete(viewer_client, viewer, world):
    on_screen = viewer_client.get(LIST + "?grade=C&sort=grade&page=1")
    assert 'value="grade=C&amp;sort=grade&amp;page=1"' in on_screen.content.decode()

    saved = viewer_client.post(
        SAVE, {"name": "Grade C", "query": "q=&grade=C&account=&sort=grade&page=1"}
    )
    assert saved.status_code == 302
    # Opens on its first page; the empty fields of a form sent without JavaScript go.
    assert saved["Location"] == LIST + "?grade=C&sort=grade"
    view = SavedView.objects.get(user=viewer)
    assert (view.name, view.query) == ("Grade C", "grade=C&sort=grade")

    listed = viewer_client.get(LIST)
    page = listed.content.decode()
    link = f'<a href="{LIST}?grade=C&amp;sort=grade">Grade C</a>'
    assert link in page
    assert page.index("Critical findings") < page.index(link)  # beside the presets
    assert f'action="{_delete_url(view)}"' in page
    assert _names(listed) != GRADE_C  # the whole fleet until the view is opened

    applied = viewer_client.get(html.unescape(LIST + "?grade=C&amp;sort=grade"))
    assert _names(applied) == GRADE_C
    assert applied.context["filters"].form["grade"].value() == "C"

    deleted = viewer_client.post(_delete_url(view), {"query": "grade=C"})
    assert deleted.status_code == 302
    assert deleted["Location"] == LIST + "?grade=C"  # back to the list as it was
    assert not SavedView.objects.exists()
    assert "Grade C</a>" not in viewer_client.get(LIST).content.decode()


def test_another_users_view_is_a_404_and_never_listed(viewer_client, world, django_user_model):
    other = django_user_model.objects.create_user("someone-else", password=PASSWORD)
    theirs = SavedView.objects.create(user=other, name="Their view", query="grade=F")
    assert viewer_client.post(_delete_url(theirs)).status_code == 404
    assert viewer_client.get(_delete_url(theirs)).status_code == 405  # POST only
    assert SavedView.objects.filter(pk=theirs.pk).exists()
    assert "Their view" not in viewer_client.get(LIST).content.decode()
    # The same name is free for each user.
    response = viewer_client.post(SAVE, {"name": "Their view", "query": "grade=A"})
    assert response.status_code == 302
    assert SavedView.objects.filter(name="Their view").count() == 2


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 81, "Ensure this value has at most 80 characters (it has 81)."),
        ("Mine", "You already have a view named “Mine”."),
    ],
)
def test_an_invalid_name_is_refused_and_nothing_is_lost(viewer_client, viewer, world, name, error):
    SavedView.objects.create(user=viewer, name="Mine", query="grade=F")
    response = viewer_client.post(SAVE, {"name": name, "query": "grade=C&provider=aliyun"})
    assert response.status_code == 200
    page = response.content.decode()
    assert html.escape(error) in page or error in page
    assert 'aria-invalid="true"' in page
    assert f'value="{html.escape(name)}"' in page or not name.strip()  # what was typed
    assert 'value="grade=C&amp;provider=aliyun"' in page  # the filters, kept
    assert _names(response) == {"rm-orders"}  # the list still shows what was on screen
    assert f'method="get" action="{LIST}"' in page  # its filters still filter the list
    # Its relative sort/page links ("?sort=grade") reach this URL by GET: on to the list.
    relative = viewer_client.get(SAVE + "?grade=C&sort=grade")
    assert (relative.status_code, relative["Location"]) == (302, LIST + "?grade=C&sort=grade")
    assert SavedView.objects.filter(user=viewer).count() == 1


HOSTILE = "grade=Z&cert_expires=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&per_page=-5&page=x&sort=%3B"


def test_a_hostile_query_is_refused_when_saved(viewer_client, viewer, world):
    response = viewer_client.post(SAVE, {"name": "Bad", "query": HOSTILE})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The filters have errors: fix them, then save." in page
    assert "<script>alert(1)" not in page
    assert response.context["filters"].errors  # the filter errors are shown too
    assert not SavedView.objects.exists()


def test_a_stale_or_hostile_stored_query_shows_filter_errors_never_a_500(
    viewer_client, viewer, world
):
    # Stored before a filter value went away, or written straight into the table.
    view = SavedView.objects.create(user=viewer, name="<b>odd</b>", query=HOSTILE)
    listed = viewer_client.get(LIST).content.decode()
    assert "&lt;b&gt;odd&lt;/b&gt;" in listed and "<b>odd</b>" not in listed
    assert f'href="{LIST}?{html.escape(view.query)}"' in listed

    applied = viewer_client.get(f"{LIST}?{view.query}")
    assert applied.status_code == 200
    errors = applied.context["filters"].errors
    assert {"grade", "cert_expires"} <= set(errors)
    page = applied.content.decode()
    assert 'role="alert"' in page
    assert "<script>alert(1)" not in page


def test_htmx_swaps_only_the_table_and_the_forms_need_csrf(viewer, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    region = client.get(
        LIST + "?grade=C", headers={"HX-Request": "true", "HX-Target": "instance-table"}
    )
    assert region.status_code == 200
    assert "Save this view" not in region.content.decode()  # outside the swapped region
    assert client.post(SAVE, {"name": "No token", "query": ""}).status_code == 403
    assert not SavedView.objects.exists()
