"""One entry per workspace-owned API detail route: how to make an object of that route in a
workspace. tests/revorg/test_cross_tenant.py walks every detail route and fails if one is
missing here, so a new resource cannot skip the cross-workspace checks."""

from tests.factories import (
    AbsenceFactory,
    AccountLockFactory,
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
)


def _member(workspace):
    member = MemberFactory(workspace=workspace)
    return {"pk": member.pk}


def _absence(workspace):
    absence = AbsenceFactory(member=MemberFactory(workspace=workspace))
    return {"member_pk": absence.member_id, "pk": absence.pk}


def _plan(workspace):
    return {"pk": TerritoryPlanFactory(workspace=workspace).pk}


def _territory(workspace):
    return {"pk": TerritoryFactory(workspace=workspace).pk}


def _lock(workspace):
    territory = TerritoryFactory(workspace=workspace)
    return {"pk": AccountLockFactory(territory=territory, workspace=workspace).pk}


def _allocation(workspace):
    from allocation.models import Allocation

    return {
        "pk": Allocation.objects.create(
            workspace=workspace, status="unassigned", record_type="lead"
        ).pk
    }


def _capacity(workspace):
    from tests.capacities.factories import CapacityFactory

    return {"pk": CapacityFactory(member=MemberFactory(workspace=workspace)).pk}


def _snapshot(workspace):
    from django.utils import timezone

    from capacities.models import PipelineSnapshot

    member = MemberFactory(workspace=workspace)
    snapshot = PipelineSnapshot.objects.create(
        workspace=workspace, member=member, open_deals=3, taken_at=timezone.now()
    )
    return {"pk": snapshot.pk}


def _crm_connection(workspace):
    from tests.crm_sync.factories import CrmConnectionFactory

    return {"pk": CrmConnectionFactory(workspace=workspace).pk}


def _sync_run(workspace):
    from crm_sync.models import SyncRun
    from tests.crm_sync.factories import CrmConnectionFactory

    connection = CrmConnectionFactory(workspace=workspace)
    return {"pk": SyncRun.objects.create(workspace=workspace, connection=connection).pk}


def _job(workspace):
    from jobs.models import Job

    return {"pk": Job.objects.create(workspace=workspace, kind="import", handler="x").pk}


def _account(workspace):
    from tests.book.factories import AccountFactory

    return {"pk": AccountFactory(workspace=workspace).pk}


def _webhook(workspace):
    from tests.notifications.factories import endpoint_for

    endpoint, _ = endpoint_for(workspace, "http://127.0.0.1:9/hooks")
    return {"pk": endpoint.pk}


def _webhook_delivery(workspace):
    ids = _ui_webhook_delivery(workspace)
    return {"webhook_pk": ids["pk"], "pk": ids["delivery_pk"]}


def _ui_webhook_delivery(workspace):
    from notifications.events import publish
    from notifications.models import WebhookDelivery
    from tests.notifications.factories import endpoint_for

    endpoint, _ = endpoint_for(workspace, "http://127.0.0.1:9/hooks")
    publish(workspace=workspace, event_type="job.finished", data={"id": 1})
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    return {"pk": endpoint.pk, "delivery_pk": delivery.pk}


def _opportunity(workspace):
    from tests.book.factories import OpportunityFactory

    return {"pk": OpportunityFactory(account__workspace=workspace).pk}


def _activation_record(workspace):
    from django.utils import timezone

    from transitions.models import Activation

    plan = TerritoryPlanFactory(workspace=workspace)
    return Activation.objects.create(
        workspace=workspace, plan=plan, status="activated", effective_at=timezone.now()
    )


def _activation(workspace):
    return {"pk": _activation_record(workspace).pk}


def _transition_move(workspace):
    from tests.book.factories import OpportunityFactory
    from transitions.models import TransitionMove

    deal = OpportunityFactory(account__workspace=workspace)
    move = TransitionMove.objects.create(
        workspace=workspace,
        activation=_activation_record(workspace),
        opportunity=deal,
        account=deal.account,
    )
    return {"pk": move.pk}


def _quota(workspace):
    from tests.analytics.factories import QuotaFactory

    territory = TerritoryFactory(workspace=workspace)
    quota = QuotaFactory(
        workspace=workspace, territory=territory, period_start="2026-01-01", period_end="2026-03-31"
    )
    return {"pk": quota.pk}


def _member_ramp(workspace):
    from tests.analytics.factories import MemberRampFactory

    ramp = MemberRampFactory(member=MemberFactory(workspace=workspace), start_date="2026-01-01")
    return {"pk": ramp.pk}


def _reassignment_request(workspace):
    from reassignments.models import ReassignmentRequest

    member = MemberFactory(workspace=workspace)
    request = ReassignmentRequest.objects.create(
        workspace=workspace,
        to_member=member,
        reason="x",
        effective_at=__import__("django.utils.timezone", fromlist=["now"]).now(),
        requested_by_label="tests",
    )
    return {"pk": request.pk}


def _sla_policy(workspace):
    from sla.models import SlaPolicy

    return {
        "pk": SlaPolicy.objects.create(workspace=workspace, name="P", respond_within_minutes=60).pk
    }


def _ui_decision(workspace):
    return {**_reassignment_request(workspace), "verb": "approve"}


def _user(workspace):
    from tests.factories import MembershipFactory

    return {"pk": MembershipFactory(workspace=workspace, role="viewer").user_id}


# url name -> factory returning the url kwargs of a fresh object in the given workspace
DETAIL_ROUTES = {
    "activation-detail": _activation,
    "transition-move-detail": _transition_move,
    "reassignment-request-detail": _reassignment_request,
    "sla-policy-detail": _sla_policy,
    "member-detail": _member,
    "absence-detail": _absence,
    "territory-plan-detail": _plan,
    "territory-detail": _territory,
    "account-lock-detail": _lock,
    "allocation-detail": _allocation,
    "capacity-detail": _capacity,
    "pipeline-snapshot-detail": _snapshot,
    "crm-connection-detail": _crm_connection,
    "sync-run-detail": _sync_run,
    "job-detail": _job,
    "account-detail": _account,
    "opportunity-detail": _opportunity,
    "quota-detail": _quota,
    "member-ramp-detail": _member_ramp,
    "webhook-detail": _webhook,
    "webhook-delivery-detail": _webhook_delivery,
    "user-detail": _user,
}


def _ui_api_key(workspace):
    from revorg.models import ApiKey
    from tests.factories import api_key_for

    api_key_for(workspace, name="victim")
    return {"pk": ApiKey.objects.get(workspace=workspace, name="victim").pk}


def _ui_absence(workspace):
    absence = AbsenceFactory(member=MemberFactory(workspace=workspace))
    return {"pk": absence.member_id, "absence_pk": absence.pk}


def _ui_replay(workspace):
    from jobs.models import Job

    plan = TerritoryPlanFactory(workspace=workspace)
    job = Job.objects.create(
        workspace=workspace, kind="replay", handler="replay.replay", params={"plan": plan.pk}
    )
    return {"pk": plan.pk, "job_pk": job.pk}


# UI url name (namespace "ui") -> factory returning the int url kwargs of an object in the
# given workspace; tests/revorg/test_cross_tenant.py walks the UI URL conf and fails if a
# route with an int id is missing here.
UI_ROUTES = {
    "queue-accept": _allocation,
    "reassignment-decide": _ui_decision,
    "api-key-revoke": _ui_api_key,
    "member-detail": _member,
    "absence-add": _member,
    "member-working-hours": _member,
    "absence-delete": _ui_absence,
    "territory-edit": _territory,
    "plan-activate": _plan,
    "plan-unschedule": _plan,
    "transition-move-apply": _transition_move,
    "transition-move-dismiss": _transition_move,
    "plan-clone": _plan,
    "capacity-edit": _capacity,
    "capacity-delete": _capacity,
    "crm-test": _crm_connection,
    "crm-sync": _crm_connection,
    "crm-reconnect": _crm_connection,
    "crm-delete": _crm_connection,
    "sync-run": _sync_run,
    "allocation-detail": _allocation,
    "writeback-retry": _allocation,
    "job": _job,
    "job-cancel": _job,
    "account": _account,
    "account-lock-delete": _lock,
    "crm-field-mapping": _crm_connection,
    "crm-sync-book": _crm_connection,
    "member-activation": _member,
    "plan-delete": _plan,
    "plan-rename": _plan,
    "territory-delete": _territory,
    "plan-replay": _plan,
    "plan-replay-result": _ui_replay,
    "plan-replay-moves": _ui_replay,
    "webhook": _webhook,
    "webhook-toggle": _webhook,
    "webhook-delete": _webhook,
    "webhook-redeliver": _ui_webhook_delivery,
    "plan-compare": _plan,
    "plan-simulate": _plan,
    "plan-rebalance-accept": _plan,
    "user-change": _user,
    "user-resend-invitation": _user,
    "sla-policy-edit": _sla_policy,
    "sla-policy-delete": _sla_policy,
}
