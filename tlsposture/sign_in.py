"""The login page: a password form, a "Sign in with single sign-on" button, or both
(README "Access")."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied

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
