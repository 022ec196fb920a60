from django.apps import AppConfig


class PostureConfig(AppConfig):
    name = "posture"
    verbose_name = "Posture"

    def ready(self):
        from checker.signals import check_finished
        from inventory.signals import sync_finished
        from posture import receivers

        sync_finished.connect(receivers.on_sync_finished, dispatch_uid="posture.sync_finished")
        check_finished.connect(receivers.on_check_finished, dispatch_uid="posture.check_finished")
