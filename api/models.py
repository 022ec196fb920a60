"""Per-user API tokens: stored as a SHA-256 hash, found by a prefix, shown once."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token of the read-only API; it sees what its user sees.

    The token is `tlsp_` + 43 url-safe characters (256 random bits). Its first 13
    characters (`prefix`) find the row and name the token in lists; the database keeps only
    the SHA-256 of the whole token. A hash without a salt is enough for 256 random bits:
    nothing can be guessed, and a leaked table gives no usable token.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “CI gate”.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
