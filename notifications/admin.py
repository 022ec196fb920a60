from django.contrib import admin

from common.admin import SyncedDataAdmin
from notifications.forms import DigestSubscriptionForm
from notifications.models import DigestSendLog, DigestSubscription


class DigestSubscriptionAdminForm(DigestSubscriptionForm):
    # The chat or webhook target is read-only here: its URL holds a secret that is set on
    # the owner's own page and never shown again (notifications/channels.py).
    edits_channel = False


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    # Same validation as the self-service pages: addresses, thresholds, zone, tags.
    form = DigestSubscriptionAdminForm
    # Without this the admin takes its fields from the form, which leaves the owner out.
    fields = [
        "owner",
        *(f for f in DigestSubscriptionForm.Meta.fields if f != "channel"),
        "channel",
        "target_url",
    ]
    readonly_fields = ["channel", "target_url"]
    list_display = ["name", "owner", "cadence", "time_zone", "channel", "active"]
    list_filter = ["cadence", "active", "channel"]
    list_select_related = ["owner"]
    search_fields = ["name", "recipients", "owner__username"]

    @admin.display(description="Target URL")
    def target_url(self, subscription) -> str:
        if subscription.has_channel:
            return "set (encrypted; its owner replaces it on the digest's page)"
        return "not set"


@admin.register(DigestSendLog)
class DigestSendLogAdmin(SyncedDataAdmin):
    list_display = ["subscription", "period", "status", "claimed_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["subscription"]
    search_fields = ["subscription__name", "period"]
