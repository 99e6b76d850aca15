from django.apps import AppConfig


class PlanningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "planning"

    def ready(self):
        from . import job_handlers  # noqa: F401  (registers the simulation job)
