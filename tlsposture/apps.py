from django.apps import AppConfig


class TlspostureConfig(AppConfig):
    name = "tlsposture"

    def ready(self):
        from tlsposture import checks  # noqa: F401 - registers the system checks
