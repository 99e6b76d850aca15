from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA and escalation"

    def ready(self):
        from crm_sync.signals import member_sync_done

        from .crm_signals import crm_acceptance_check

        member_sync_done.connect(crm_acceptance_check, dispatch_uid="sla.crm_acceptance_check")
