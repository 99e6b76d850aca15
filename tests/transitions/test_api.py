"""Plan activation with a transition through the REST API: each open-deal policy, the
overlap, the digests, scheduling (a clock we control), unscheduling, refusals (400 naming
the field, 404 for another workspace, 403 for a role without the right) and the record of
every activation."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from allocation.models import Allocation
from book.models import Account
from crm_sync.models import WritebackOutbox
from jobs.models import Job
from territories.models import TerritoryPlan
from tests.factories import TerritoryFactory, TerritoryPlanFactory
from tests.transitions.factories import book_moving, owner_of
from transitions import selectors, services
from transitions.models import Activation, TransitionMove

PLANS = "/api/v1/territory-plans/"
pytestmark = pytest.mark.django_db


def activate(api, plan, capture, body=None):
    with capture(execute=True):
        response = api.post(f"{PLANS}{plan.pk}/activate/", body or {}, format="json")
    return response


def transition(open_deals, **extra):
    return {"transition": {"open_deals": open_deals, **extra}}


def test_stage_based_by_probability_keeps_deals_at_or_past_it_and_moves_earlier_ones(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    body = transition("stage_based", stage_threshold={"probability": 60}, overlap_days=30)
    response = activate(api, book.draft, django_capture_on_commit_callbacks, body)

    assert response.status_code == 200, response.json()
    payload = response.json()
    assert payload["status"] == "active"
    assert payload["activation"]["transition"]["open_deals"] == "stage_based"
    job = Job.objects.get(pk=payload["activation"]["job"]["id"])
    assert job.kind == "activate" and job.status == "succeeded", job.errors
    assert owner_of(book.late) == book.old.pk  # 70 % ≥ 60 %: stays with the old owner
    assert owner_of(book.early) == book.new.pk  # 20 %: follows the account
    assert owner_of(book.closed) == book.old.pk  # closed deals never move
    assert owner_of(book.partner) != book.new.pk  # someone else's deal is not the transition's
    assert set(Account.objects.filter(workspace=workspace).values_list("owner_id", flat=True)) == {
        book.new.pk
    }
    assert job.result["accounts_moved"] == 2
    assert (job.result["deals_moved"], job.result["deals_kept"]) == (1, 1)
    entry = Allocation.objects.get(record_type="opportunity", record_id=book.early.crm_id)
    assert entry.owner_id == book.new.pk and entry.decision[0]["step"] == "transition"


def test_stage_based_by_stage_name_uses_the_stage_and_the_probability_it_stands_for(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    body = transition("stage_based", stage_threshold={"stage": "negotiation"})
    assert activate(api, book.draft, django_capture_on_commit_callbacks, body).status_code == 200
    assert owner_of(book.late) == book.old.pk
    assert owner_of(book.early) == book.new.pk


@pytest.mark.parametrize(
    ("policy", "late_goes_to", "early_goes_to"),
    [("follow_rep", "old", "old"), ("follow_territory", "new", "new")],
)
def test_follow_rep_keeps_and_follow_territory_moves_every_open_deal(
    api, workspace, django_capture_on_commit_callbacks, policy, late_goes_to, early_goes_to
):
    book = book_moving(workspace)
    assert activate(api, book.draft, django_capture_on_commit_callbacks, transition(policy))
    assert owner_of(book.late) == getattr(book, late_goes_to).pk
    assert owner_of(book.early) == getattr(book, early_goes_to).pk


def test_manual_queues_each_move_for_a_manager_who_applies_or_dismisses_it(
    api, workspace, django_capture_on_commit_callbacks, make_client
):
    book = book_moving(workspace)
    activation = activate(api, book.draft, django_capture_on_commit_callbacks, transition("manual"))
    job = Job.objects.get(pk=activation.json()["activation"]["job"]["id"])
    assert job.result["deals_queued"] == 2 and job.result["deals_moved"] == 0
    assert owner_of(book.late) == owner_of(book.early) == book.old.pk  # nothing moved yet

    queue = api.get("/api/v1/transition-moves/?status=pending").json()
    assert {m["opportunity"]["name"] for m in queue["results"]} == {"Late deal", "Early deal"}
    late = TransitionMove.objects.get(opportunity=book.late)
    early = TransitionMove.objects.get(opportunity=book.early)

    reader = make_client(workspace, scopes="read")
    assert reader.post(f"/api/v1/transition-moves/{late.pk}/apply/").status_code == 403
    assert api.post(f"/api/v1/transition-moves/{late.pk}/apply/").json()["status"] == "applied"
    assert owner_of(book.late) == book.new.pk
    assert api.post(f"/api/v1/transition-moves/{late.pk}/apply/").status_code == 409
    assert api.post(f"/api/v1/transition-moves/{early.pk}/dismiss/").json()["status"] == (
        "dismissed"
    )
    assert owner_of(book.early) == book.old.pk
    assert api.get("/api/v1/transition-moves/?status=pending").json()["count"] == 0


def test_overlap_shows_the_old_owner_as_an_overlay_until_it_expires(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    activate(api, book.draft, django_capture_on_commit_callbacks, transition("follow_rep",
             overlap_days=30))  # fmt: skip
    account = book.accounts[0]
    [overlay] = api.get(f"/api/v1/accounts/{account.pk}/").json()["overlays"]
    assert overlay["id"] == book.old.pk and overlay["name"] == "Olga Old"
    effective = TerritoryPlan.objects.get(pk=book.draft.pk).effective_at
    assert overlay["until"].startswith((effective + timedelta(days=30)).date().isoformat())

    assert services.overlays_expire(now=effective + timedelta(days=29)) == 0
    assert services.overlays_expire(now=effective + timedelta(days=30, seconds=1)) == 2
    assert api.get(f"/api/v1/accounts/{account.pk}/").json()["overlays"] == []


def test_each_affected_rep_and_their_manager_get_one_digest(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    body = transition("stage_based", stage_threshold={"probability": 60}, notify=True)
    activate(api, book.draft, django_capture_on_commit_callbacks, body)

    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == sorted([book.old.email, book.new.email, book.manager.email])
    old_body = by_recipient[book.old.email].body
    assert "Plan FY27" in by_recipient[book.old.email].subject
    assert "You: 0 account(s) moved in, 2 moved out." in old_body
    assert "Moved out: Acme 0, Acme 1" in old_body
    assert "Open deals: 1 kept, 1 moved to the new owner" in old_body
    assert "You: 2 account(s) moved in, 0 moved out." in by_recipient[book.new.email].body
    manager_body = by_recipient[book.manager.email].body
    assert "Your team:" in manager_body and "Olga Old" in manager_body
    assert "Ned New" in manager_body
    assert Activation.objects.get(plan=book.draft).digests_sent == 3


def test_no_digest_without_notify_but_the_event_is_published(
    api, workspace, django_capture_on_commit_callbacks
):
    from notifications.events import event_published

    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    event_published.connect(receiver)
    try:
        book = book_moving(workspace)
        activate(api, book.draft, django_capture_on_commit_callbacks,
                 transition("follow_rep", notify=False))  # fmt: skip
    finally:
        event_published.disconnect(receiver)
    assert mail.outbox == []
    [event] = [e for e in seen if e["event_type"] == "plan.activated"]
    assert event["data"]["plan"]["name"] == "FY27"
    assert event["data"]["counts"]["accounts_moved"] == 2
    assert {m.pk for m in event["members"]} == {book.old.pk, book.new.pk}


def test_ownership_writeback_on_queues_the_moved_deals_owner_for_the_crm(
    api, workspace, django_capture_on_commit_callbacks
):
    workspace.account_ownership_writeback = True
    workspace.save()
    book = book_moving(workspace)
    book.new.crm_provider, book.new.crm_user_id = "salesforce", "005NEW"
    book.new.save()
    activate(api, book.draft, django_capture_on_commit_callbacks, transition("follow_territory"))
    rows = WritebackOutbox.objects.filter(workspace=workspace, owner_crm_user_id="005NEW")
    assert set(rows.values_list("record_type", flat=True)) == {"account", "opportunity"}
    assert rows.filter(record_type="opportunity", record_id=book.early.crm_id).exists()


def test_a_future_effective_at_schedules_the_plan_until_a_clock_reaches_it(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    when = timezone.now() + timedelta(days=10)
    body = {"effective_at": when.isoformat(), **transition("follow_territory")}
    response = activate(api, book.draft, django_capture_on_commit_callbacks, body)
    assert response.status_code == 202
    assert response.json()["status"] == "scheduled"
    assert response.json()["activation"]["job"] is None
    assert owner_of(book.early) == book.old.pk

    assert services.activations_due_run(now=when - timedelta(seconds=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        [activated] = services.activations_due_run(now=when)
    plan = TerritoryPlan.objects.get(pk=book.draft.pk)
    assert plan.status == "active" and plan.effective_at == when
    activation = Activation.objects.get(pk=activated)
    assert activation.job.status == "succeeded" and activation.activated_by == "system"
    assert owner_of(book.early) == book.new.pk
    assert services.activations_due_run(now=when + timedelta(days=1)) == []  # once


def test_a_scheduled_plan_is_read_only_until_unscheduled(api, workspace):
    draft = TerritoryPlanFactory(workspace=workspace)
    territory = TerritoryFactory(workspace=workspace, plan=draft)
    when = (timezone.now() + timedelta(days=1)).isoformat()
    assert (
        api.post(f"{PLANS}{draft.pk}/activate/", {"effective_at": when}, format="json").status_code
        == 202
    )

    patched = api.patch(f"/api/v1/territories/{territory.pk}/", {"name": "x"}, format="json")
    assert patched.status_code == 409
    assert "scheduled" in patched.json()["detail"] and "unschedule" in patched.json()["detail"]
    assert api.patch(f"{PLANS}{draft.pk}/", {"name": "y"}, format="json").status_code == 409
    assert api.delete(f"{PLANS}{draft.pk}/").status_code == 409
    created = api.post("/api/v1/territories/", {"plan": draft.pk, "name": "n"}, format="json")
    assert created.status_code == 409
    again = api.post(f"{PLANS}{draft.pk}/activate/", format="json")
    assert again.status_code == 409 and "unschedule" in again.json()["detail"]
    other = TerritoryPlanFactory(workspace=workspace)
    blocked = api.post(f"{PLANS}{other.pk}/activate/", format="json")
    assert blocked.status_code == 409 and draft.name in blocked.json()["detail"]

    unscheduled = api.delete(f"{PLANS}{draft.pk}/schedule/")
    assert unscheduled.status_code == 200 and unscheduled.json()["status"] == "draft"
    assert unscheduled.json()["activation"]["status"] == "unscheduled"
    assert (
        api.patch(f"/api/v1/territories/{territory.pk}/", {"name": "x"}, format="json").status_code
        == 200
    )
    assert api.delete(f"{PLANS}{draft.pk}/schedule/").status_code == 409
    assert services.activations_due_run(now=timezone.now() + timedelta(days=2)) == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"effective_at": "tomorrow"}, ["effective_at"]),
        ({"transition": {"open_deals": "follow_moon"}}, ["transition", "open_deals"]),
        ({"transition": {"open_deals": "stage_based"}}, ["transition", "stage_threshold"]),
        (
            {"transition": {"open_deals": "stage_based", "stage_threshold": {"probability": 160}}},
            ["transition", "stage_threshold", "probability"],
        ),
        (
            {
                "transition": {
                    "open_deals": "stage_based",
                    "stage_threshold": {"probability": 60, "stage": "Negotiation"},
                }
            },
            ["transition", "stage_threshold", "non_field_errors"],
        ),
        (
            {"transition": {"open_deals": "stage_based", "stage_threshold": {"stage": "Nope"}}},
            ["transition", "stage_threshold", "stage"],
        ),
        (
            {"transition": {"open_deals": "follow_rep", "stage_threshold": {"probability": 5}}},
            ["transition", "stage_threshold"],
        ),
        ({"transition": {"overlap_days": -1}}, ["transition", "overlap_days"]),
        ({"transition": {"overlap_days": "many"}}, ["transition", "overlap_days"]),
        ({"transition": {"notify": "perhaps"}}, ["transition", "notify"]),
        ({"transition": {"overlap": 3}}, ["transition", "overlap"]),
        ({"transition": []}, ["transition", "non_field_errors"]),
        ({"effective": "2030-01-01"}, ["effective"]),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(api, workspace, body, path):
    book = book_moving(workspace)
    response = api.post(f"{PLANS}{book.draft.pk}/activate/", body, format="json")
    assert response.status_code == 400, response.json()
    node = response.json()
    for key in path:
        node = node[key]
    assert node
    assert TerritoryPlan.objects.get(pk=book.draft.pk).status == "draft"
    assert not Activation.objects.exists() and not Job.objects.filter(kind="activate").exists()


def test_another_workspace_is_a_404_and_a_role_without_the_right_a_403(
    api, other_api, workspace, make_client, user_client
):
    draft = TerritoryPlanFactory(workspace=workspace)
    assert other_api.post(f"{PLANS}{draft.pk}/activate/", format="json").status_code == 404
    assert other_api.delete(f"{PLANS}{draft.pk}/schedule/").status_code == 404
    assert (
        make_client(workspace, scopes="read").post(f"{PLANS}{draft.pk}/activate/").status_code
        == 403
    )
    manager = user_client(workspace, role="manager")
    assert manager.post(f"{PLANS}{draft.pk}/activate/", {}, format="json").status_code == 403
    assert TerritoryPlan.objects.get(pk=draft.pk).status == "draft"
    when = (timezone.now() + timedelta(days=1)).isoformat()
    api.post(f"{PLANS}{draft.pk}/activate/", {"effective_at": when}, format="json")
    [activation] = api.get("/api/v1/activations/").json()["results"]
    assert other_api.get(f"/api/v1/activations/{activation['id']}/").status_code == 404
    assert other_api.get("/api/v1/activations/").json()["count"] == 0


def test_every_activation_is_recorded_and_tells_which_plan_was_in_force_when(
    api, workspace, django_capture_on_commit_callbacks
):
    book = book_moving(workspace)
    activate(api, book.draft, django_capture_on_commit_callbacks, transition("follow_rep"))
    [record] = api.get(f"/api/v1/activations/?plan={book.draft.pk}").json()["results"]
    assert record["status"] == "activated" and record["requested_by"].startswith("api key")
    assert record["counts"]["accounts_moved"] == 2
    assert record["previous_plan"]["id"] != book.draft.pk
    effective = TerritoryPlan.objects.get(pk=book.draft.pk).effective_at
    assert selectors.plan_in_force_at(workspace=workspace, at=effective).pk == book.draft.pk
    assert selectors.plan_in_force_at(workspace=workspace, at=effective - timedelta(1)) is None
