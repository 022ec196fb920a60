"""The login page: a password form, a "Sign in with single sign-on" button, or both
(README "Access")."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

SSO_MESSAGES = {
    "failed": "Single sign-on did not complete. Try again, or ask an administrator.",
    "unavailable": "The single sign-on provider cannot be reached just now.",
}


class LoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN:
            raise PermissionDenied("Password logins are switched off: use single sign-on.")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["password_login"] = settings.PASSWORD_LOGIN
        context["sso"] = bool(settings.OIDC_ISSUER)
        context["sso_message"] = SSO_MESSAGES.get(self.request.GET.get("sso", ""), "")
        return context


@login_not_required
def admin_login(request):
    """The admin signs in on the one login page, so single sign-on and the password switch
    hold there too (its own form would only ever try a password)."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect(reverse("login") + "?" + urlencode({"next": next_url}))
