from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The top floor: composes the domain apps (dashboard, UI URLs, demo); nothing imports it."""

    name = "console"
    verbose_name = "Console"
