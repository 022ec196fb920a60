"""The only writer of dashboard state: a user's saved views (design.md: services write)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from dashboard.models import SavedView


class NameTaken(Exception):
    """The user already has a view of that name."""


def save_view(user, name: str, query: str) -> SavedView:
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=user, name=name, query=query)
    except IntegrityError as error:  # a second tab saving the same name at the same time
        raise NameTaken(name) from error


def delete_view(view: SavedView) -> None:
    view.delete()
