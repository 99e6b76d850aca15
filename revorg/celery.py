"""The Celery app. Without CELERY_BROKER_URL every task runs eagerly in-process (demo mode)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revorg.settings")

app = Celery("revorg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _refuse_dev_secret(**kwargs):
    from revorg.security import require_production_secret

    require_production_secret()
