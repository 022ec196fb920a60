from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.views.metrics import metrics

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("notifications/", include("notifications.urls")),
    path("metrics", metrics, name="metrics"),
    path("api/", include("api.urls")),
    path("", include("dashboard.urls")),
]
