from django.apps import AppConfig


class CrmSyncConfig(AppConfig):
    name = "crm_sync"

    def ready(self):
        from jobs.registry import JobHandler, register

        from . import book_sync

        register(
            JobHandler(
                name=book_sync.BOOK_SYNC,
                plan=book_sync.book_sync_plan,
                prepare=book_sync.book_sync_prepare,
                apply=book_sync.book_sync_apply,
                on_success=book_sync.book_sync_succeeded,
            )
        )
