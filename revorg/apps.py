from django.apps import AppConfig


class RevorgConfig(AppConfig):
    name = "revorg"
    verbose_name = "Tenancy"
