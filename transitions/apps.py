from django.apps import AppConfig


class TransitionsConfig(AppConfig):
    name = "transitions"

    def ready(self):
        from . import job_handlers  # noqa: F401  registers the activation job's handler
