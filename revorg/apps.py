from django.apps import AppConfig


class RevorgConfig(AppConfig):
    name = "revorg"
    verbose_name = "Tenancy"

    def ready(self):
        from . import schema  # noqa: F401  (registers the API-key scheme with drf-spectacular)
