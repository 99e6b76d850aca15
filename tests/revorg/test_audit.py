"""Every write, from the browser or the API, leaves exactly one audit entry (its home audits
it once, whichever door it came through)."""

import pytest

from jobs.models import Job
from revorg.models import ApiKey, AuditEntry
from tests.factories import (
    AbsenceFactory,
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    active_plan,
    api_key_for,
)

ABSENCE = {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-05T00:00:00Z"}


def _draft(workspace):
    active_plan(workspace)
    draft = TerritoryPlanFactory(workspace=workspace, status="draft", name="Next year")
    TerritoryFactory(workspace=workspace, plan=draft)
    return draft


def _job(workspace):
    return Job.objects.create(workspace=workspace, kind="import", handler="x")


def ui_api_key_create(client, workspace):
    return client.post("/api-keys/", {"name": "zapier", "scopes": ["read"]}), "revorg.apikey"


def ui_api_key_revoke(client, workspace):
    api_key_for(workspace, name="old")
    key = ApiKey.objects.get(workspace=workspace, name="old")
    return client.post(f"/api-keys/{key.pk}/revoke/"), "revorg.apikey"


def ui_absence_add(client, workspace):
    member = MemberFactory(workspace=workspace)
    return client.post(f"/members/{member.pk}/absences/", ABSENCE), "members.absence"


def ui_absence_delete(client, workspace):
    absence = AbsenceFactory(member=MemberFactory(workspace=workspace))
    url = f"/members/{absence.member_id}/absences/{absence.pk}/delete/"
    return client.post(url), "members.absence"


def ui_plan_activate(client, workspace):
    draft = _draft(workspace)
    url = f"/territories/plans/{draft.pk}/activate/"
    return client.post(url, {"confirm": draft.name}), "territories.territoryplan"


def ui_plan_clone(client, workspace):
    plan = _draft(workspace)
    url = f"/territories/plans/{plan.pk}/clone/"
    return client.post(url, {"name": "Copy"}), "territories.territoryplan"


def ui_job_cancel(client, workspace):
    return client.post(f"/jobs/{_job(workspace).pk}/cancel/"), "jobs.job"


def api_absence_create(client, workspace):
    member = MemberFactory(workspace=workspace)
    url = f"/api/v1/members/{member.pk}/absences/"
    return client.post(url, ABSENCE, format="json"), "members.absence"


def api_absence_delete(client, workspace):
    absence = AbsenceFactory(member=MemberFactory(workspace=workspace))
    url = f"/api/v1/members/{absence.member_id}/absences/{absence.pk}/"
    return client.delete(url), "members.absence"


def api_plan_activate(client, workspace):
    url = f"/api/v1/territory-plans/{_draft(workspace).pk}/activate/"
    return client.post(url, {}, format="json"), "territories.territoryplan"


def api_plan_clone(client, workspace):
    url = f"/api/v1/territory-plans/{_draft(workspace).pk}/clone/"
    return client.post(url, {"name": "Copy"}, format="json"), "territories.territoryplan"


def api_job_cancel(client, workspace):
    url = f"/api/v1/jobs/{_job(workspace).pk}/cancel/"
    return client.post(url, {}, format="json"), "jobs.job"


UI_WRITES = [
    ui_api_key_create,
    ui_api_key_revoke,
    ui_absence_add,
    ui_absence_delete,
    ui_plan_activate,
    ui_plan_clone,
    ui_job_cancel,
]
API_WRITES = [
    api_absence_create,
    api_absence_delete,
    api_plan_activate,
    api_plan_clone,
    api_job_cancel,
]


def _drive(write, client, workspace):
    """Runs `write`; returns its response, the audit entries it added and the audited type."""
    seen = set(AuditEntry.objects.values_list("pk", flat=True))
    response, object_type = write(client, workspace)
    # setup writes done by factories (a key, a plan) are audited too: keep only the request's
    added = [
        entry
        for entry in AuditEntry.objects.filter(workspace=workspace).order_by("pk")
        if entry.pk not in seen and entry.actor_label != "system"
    ]
    return response, added, object_type


@pytest.mark.parametrize("write", UI_WRITES, ids=lambda write: write.__name__)
def test_every_ui_write_is_audited_once_with_its_user(write, workspace, user_client):
    client = user_client(workspace, role="admin")
    response, added, object_type = _drive(write, client, workspace)
    assert response.status_code in (200, 302), response.content[:300]
    assert [(e.object_type, e.actor_label) for e in added] == [
        (object_type, f"user {client.user.get_username()}")
    ]


@pytest.mark.parametrize("write", API_WRITES, ids=lambda write: write.__name__)
def test_every_api_write_is_audited_once_with_its_key(write, workspace, api):
    response, added, object_type = _drive(write, api, workspace)
    assert response.status_code in (200, 201, 204), response.content[:300]
    assert [e.object_type for e in added] == [object_type]
    assert added[0].actor_label.startswith("api key")


def test_a_revoked_key_entry_keeps_no_secret(workspace, user_client):
    client = user_client(workspace, role="admin")
    _, added, _ = _drive(ui_api_key_revoke, client, workspace)
    [entry] = added
    assert entry.action == "revoke" and entry.before["revoked_at"] is None
    assert entry.after["revoked_at"] and "hashed_key" not in entry.after
