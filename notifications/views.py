"""Self-service digest pages (each user sees only their own) and the one-click unsubscribe."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications import services
from notifications.forms import DigestSubscriptionForm
from notifications.models import DigestSendLog, DigestSubscription
from notifications.tokens import read_unsubscribe_token


def _own(request, pk: int) -> DigestSubscription:
    # Someone else's subscription is a 404, not a 403: its existence is not disclosed.
    return get_object_or_404(DigestSubscription, pk=pk, owner=request.user)


def subscription_list(request):
    subscriptions = (
        DigestSubscription.objects.filter(owner=request.user)
        .prefetch_related("accounts")
        .annotate(
            last_sent=Max("send_log__sent_at", filter=Q(send_log__status=DigestSendLog.Status.SENT))
        )
    )
    return render(request, "notifications/subscription_list.html", {"subscriptions": subscriptions})


@require_http_methods(["GET", "POST"])
def subscription_create(request):
    form = DigestSubscriptionForm(request.POST or None, owner=request.user)
    if form.is_valid():
        subscription = services.save_subscription(form, owner=request.user)
        messages.success(request, f"Digest “{subscription.name}” created.")
        return redirect("notifications:subscriptions")
    return render(request, "notifications/subscription_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def subscription_edit(request, pk: int):
    subscription = _own(request, pk)
    form = DigestSubscriptionForm(request.POST or None, instance=subscription, owner=request.user)
    if form.is_valid():
        services.save_subscription(form)
        messages.success(request, f"Digest “{subscription.name}” saved.")
        return redirect("notifications:subscriptions")
    context = {"form": form, "subscription": subscription}
    return render(request, "notifications/subscription_form.html", context)


@require_http_methods(["GET", "POST"])
def subscription_delete(request, pk: int):
    subscription = _own(request, pk)
    if request.method == "POST":
        services.delete_subscription(subscription)
        messages.success(request, f"Digest “{subscription.name}” deleted.")
        return redirect("notifications:subscriptions")
    context = {"subscription": subscription}
    return render(request, "notifications/subscription_confirm_delete.html", context)


# The one page without login: a mail client's one-click unsubscribe (RFC 8058) POSTs here
# with no session and no CSRF token. The signed token is the authority instead, and all it
# can do is take one address off one subscription — and only while the recipients are as
# they were when the link was made. GET only asks, so link scanners that fetch URLs in mail
# unsubscribe nobody.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    target = read_unsubscribe_token(token)
    if target is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        state, removed = services.unsubscribe(target)
        if state is services.Unsubscribed.EXPIRED:
            return _expired(request)
        return render(request, "notifications/unsubscribe.html", {"done": True, "address": removed})
    subscription = DigestSubscription.objects.filter(pk=target.subscription_id).first()
    state, address = services.unsubscribe_state(subscription, target)
    if state is services.Unsubscribed.EXPIRED:
        return _expired(request)
    context = {"subscription": subscription if address else None, "address": address}
    return render(request, "notifications/unsubscribe.html", context)


def _expired(request):
    return render(request, "notifications/unsubscribe.html", {"expired": True}, status=410)
