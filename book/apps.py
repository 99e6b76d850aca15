from django.apps import AppConfig


class BookConfig(AppConfig):
    name = "book"

    def ready(self):
        from territories.signals import plan_changed

        from . import job_handlers  # noqa: F401  registers the book's job handlers
        from .services import plan_changed_receiver

        plan_changed.connect(plan_changed_receiver, dispatch_uid="book.plan_changed")
