from django.apps import AppConfig


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
