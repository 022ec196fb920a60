from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("subscriptions/", views.subscription_list, name="subscriptions"),
    path("subscriptions/new/", views.subscription_create, name="subscription-create"),
    path("subscriptions/<int:pk>/", views.subscription_edit, name="subscription-edit"),
    path("subscriptions/<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
