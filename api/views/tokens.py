"""API tokens, self-service: each user creates and revokes their own. A new token is shown
on the page that created it, once; afterwards only its prefix is."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api import services
from api.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CI gate”.")


@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        row, token = services.create_token(request.user, form.cleaned_data["name"])
        created = {"row": row, "token": token}
        form = TokenForm()
    context = {
        "form": form,
        "created": created,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    return render(request, "api/tokens.html", context)


@require_POST
def token_revoke(request, pk: int):
    # Someone else's token is a 404: its existence is not disclosed.
    row = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(row)
    messages.success(request, f"Token “{row.name}” ({row.prefix}…) revoked.")
    return redirect("api:tokens")
