from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "geo"

    def ready(self):
        from . import job_handlers  # noqa: F401  registers the locate job's handler
