from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "replay"

    def ready(self):
        from . import job_handlers  # noqa: F401  registers the replay job handler
