"""What the log says when a task cannot be queued or fails (services' on-commit helpers)."""

import logging

from celery import current_app

from crm_sync.models import SyncRun
from crm_sync.services import sync_start
from tests.crm_sync.test_sync_salesforce import salesforce


def test_a_task_failing_in_demo_mode_is_logged_as_itself_not_as_a_broker_outage(
    workspace, fake_sf, caplog, django_capture_on_commit_callbacks
):
    connection = salesforce(workspace, fake_sf)
    connection.credentials_encrypted = "not-a-fernet-token"  # e.g. the encryption key changed
    connection.save()
    caplog.set_level(logging.WARNING, logger="crm_sync")

    with django_capture_on_commit_callbacks(execute=True):
        run = sync_start(connection=connection)  # eager: the task runs at commit

    assert "broker unreachable" not in caplog.text
    record = next(r for r in caplog.records if r.name == "crm_sync.services")
    assert record.levelno == logging.ERROR
    assert record.getMessage() == f"sync run {run.pk} failed"
    assert record.exc_info and record.exc_info[0].__name__ == "InvalidToken"
    assert SyncRun.objects.get(pk=run.pk).status == "failed"


def test_a_broker_outage_is_logged_as_one(
    workspace, fake_sf, caplog, django_capture_on_commit_callbacks
):
    connection = salesforce(workspace, fake_sf)
    saved = current_app.conf.task_always_eager, current_app.conf.broker_url
    # Port 9 (discard) is closed here: publishing fails to connect.
    current_app.conf.update(
        CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="redis://127.0.0.1:9/0"
    )
    current_app._after_fork()
    caplog.set_level(logging.WARNING, logger="crm_sync")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = sync_start(connection=connection)
    finally:
        current_app.conf.update(CELERY_TASK_ALWAYS_EAGER=saved[0], CELERY_BROKER_URL=saved[1])
        current_app._after_fork()

    assert f"sync run {run.pk} not queued: broker unreachable" in caplog.text
    assert SyncRun.objects.get(pk=run.pk).status == "queued"
