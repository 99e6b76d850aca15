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


def _opportunity(workspace):
    from tests.book.factories import OpportunityFactory

    return {"pk": OpportunityFactory(account__workspace=workspace).pk}


def _user(workspace):
    from tests.factories import MembershipFactory

    return {"pk": MembershipFactory(workspace=workspace, role="viewer").user_id}


# url name -> factory returning the url kwargs of a fresh object in the given workspace
DETAIL_ROUTES = {
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


# UI url name (namespace "ui") -> factory returning the int url kwargs of an object in the
# given workspace; tests/revorg/test_cross_tenant.py walks the UI URL conf and fails if a
# route with an int id is missing here.
UI_ROUTES = {
    "api-key-revoke": _ui_api_key,
    "member-detail": _member,
    "absence-add": _member,
    "absence-delete": _ui_absence,
    "territory-edit": _territory,
    "plan-activate": _plan,
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
    "user-change": _user,
}
