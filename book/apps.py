from django.apps import AppConfig


class BookConfig(AppConfig):
    name = "book"

    def ready(self):
        from . import job_handlers  # noqa: F401  registers the book's job handlers
