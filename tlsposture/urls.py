from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from api.views.metrics import metrics

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says; the icon is public, like /static/.
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    ),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("metrics", metrics, name="metrics"),
    path("api/", include("api.urls")),
    path("", include("dashboard.urls")),
]
