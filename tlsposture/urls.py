from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from api.views.metrics import metrics
from tlsposture.oidc import CallbackView, SignInView
from tlsposture.sign_in import LoginView, admin_login


@login_not_required
def favicon(request):
    """The static SVG icon. Its URL is worked out per request, not at import: with the
    manifest storage of production it exists only after collectstatic."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says; the icon is public, like /static/.
    path("favicon.ico", favicon),
    path("login/", LoginView.as_view(), name="login"),
    # Single sign-on (OpenID Connect): the redirect URI to register is <site>/oidc/callback/.
    path(
        "oidc/authenticate/",
        login_not_required(SignInView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        login_not_required(CallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("metrics", metrics, name="metrics"),
    path("api/", include("api.urls")),
    path("", include("dashboard.urls")),
]
