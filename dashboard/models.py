"""The dashboard's own state: views of the endpoint list a user named and kept."""

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A user's named filter combination of the endpoint list: the query string, re-read
    through the filterset every time it is applied (dashboard/saved_views.py)."""

    NAME_MAX_LENGTH = 80
    QUERY_MAX_LENGTH = 2000

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    query = models.CharField(max_length=QUERY_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        constraints = [
            models.UniqueConstraint(fields=("user", "name"), name="saved_view_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
