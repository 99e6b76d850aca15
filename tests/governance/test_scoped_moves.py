"""Transition moves and reassignment requests have two members (from, to) and a territory: a
scoped person sees one when ANY of them is in their scope (DESIGN §9), so a manager sees the
moves into and out of their team, a rep the ones they give or receive, and nobody the moves
between two other teams. Lists, queues and pages alike."""

from dataclasses import fields
from types import SimpleNamespace

import pytest
from django.utils import timezone

from reassignments.models import ItemKind, ReassignmentItem, ReassignmentRequest
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import MemberFactory, TerritoryFactory
from tests.role_cases import membership_kwargs, role_world
from transitions.models import Activation, TransitionMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(workspace):
    """The role world, plus Stranger (another team's rep, outside every scope) and a
    territory nobody holds (outside every scope too)."""
    base = role_world(workspace)
    return SimpleNamespace(
        **{field.name: getattr(base, field.name) for field in fields(base)},
        stranger=MemberFactory(workspace=workspace, name="Stranger"),
        nowhere=TerritoryFactory(workspace=workspace, plan=base.outside.territory.plan),
    )


def _request(world, *, reason, to_member, from_member=None, territory=None, item_owner=None):
    """A pending request; `item_owner`: the owner of the one account it names (its
    territory: `nowhere`, out of every scope, so only the members decide)."""
    request = ReassignmentRequest.objects.create(
        workspace=world.workspace,
        to_member=to_member,
        from_member=from_member,
        territory=territory,
        reason=reason,
        effective_at=timezone.now(),
        requested_by_label="tests",
    )
    if item_owner is not None:
        account = AccountFactory(workspace=world.workspace, owner=item_owner, territory=None)
        ReassignmentItem.objects.create(
            workspace=world.workspace,
            request=request,
            kind=ItemKind.ACCOUNT,
            account=account,
            from_member=item_owner,
        )
    return request


def _move(world, *, name, from_member, to_member, territory):
    activation = Activation.objects.create(
        workspace=world.workspace,
        plan=world.inside.territory.plan,
        status="activated",
        effective_at=timezone.now(),
    )
    account = AccountFactory(workspace=world.workspace, owner=to_member, territory=territory)
    deal = OpportunityFactory(account=account, owner=from_member, name=name)
    return TransitionMove.objects.create(
        workspace=world.workspace,
        activation=activation,
        opportunity=deal,
        account=account,
        from_member=from_member,
        to_member=to_member,
    )


@pytest.fixture
def requests(world):
    rep, outsider, stranger = world.inside.member, world.outside.member, world.stranger
    return {
        "into the team": _request(world, reason="into", to_member=rep, item_owner=outsider),
        "out of the team": _request(world, reason="out", to_member=outsider, item_owner=rep),
        "a rep's whole territory out": _request(
            world,
            reason="territory",
            to_member=outsider,
            from_member=rep,
            territory=world.inside.territory,
        ),
        "between other teams": _request(
            world, reason="elsewhere", to_member=stranger, item_owner=outsider
        ),
    }


@pytest.fixture
def moves(world):
    rep, outsider, stranger = world.inside.member, world.outside.member, world.stranger
    return {
        "Deal in": _move(
            world, name="Deal in", from_member=outsider, to_member=rep, territory=world.nowhere
        ),
        "Deal out": _move(
            world, name="Deal out", from_member=rep, to_member=outsider, territory=world.nowhere
        ),
        "Deal elsewhere": _move(
            world,
            name="Deal elsewhere",
            from_member=outsider,
            to_member=stranger,
            territory=world.outside.territory,
        ),
    }


def _listed(client, url) -> set[int]:
    rows = client.get(url).json()["results"]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "a row listed twice"
    return set(ids)


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_a_scoped_role_lists_the_requests_into_and_out_of_its_scope_only(
    user_client, world, requests, role
):
    client = user_client(world.workspace, role=role, **membership_kwargs(world, role))
    ReassignmentItem.objects.create(  # a second item of the same owner: still listed once
        workspace=world.workspace,
        request=requests["out of the team"],
        kind=ItemKind.ACCOUNT,
        account=AccountFactory(workspace=world.workspace, owner=world.inside.member),
        from_member=world.inside.member,
    )
    seen = {name for name, r in requests.items() if r.pk in _listed_requests(client)}
    page = client.get("/reassignments/").content.decode()
    on_page = {name for name, r in requests.items() if f"<tr><td>{r.pk}</td>" in page}

    assert seen == {"into the team", "out of the team", "a rep's whole territory out"}
    assert on_page == seen


def _listed_requests(client) -> set[int]:
    return _listed(client, "/api/v1/reassignment-requests/")


def test_a_viewer_and_an_admin_list_every_request(user_client, world, requests):
    for role in ("viewer", "admin"):
        client = user_client(world.workspace, role=role)
        assert _listed_requests(client) == {r.pk for r in requests.values()}


def test_the_approval_queue_holds_only_requests_in_scope(user_client, world, requests):
    """Every request waits for Lead's approval; the one between two other teams is not
    Lead's to see, so not to decide either."""
    for r in requests.values():
        r.required_approvals = [f"incoming:{world.lead.pk}"]
        r.save(update_fields=["required_approvals"])
    unseen = requests["between other teams"]
    client = user_client(world.workspace, role="manager", member=world.lead)

    queue = _listed(client, "/api/v1/reassignment-requests/queue/")
    page = client.get("/reassignments/").content.decode()
    approve = client.post(
        f"/api/v1/reassignment-requests/{unseen.pk}/approve/", {"comment": "ok"}, format="json"
    )
    approve_ui = client.post(f"/reassignments/{unseen.pk}/approve/", {"comment": "ok"})

    assert queue == {r.pk for r in requests.values()} - {unseen.pk}
    assert f'data-testid="request-{unseen.pk}"' not in page
    assert f'data-testid="request-{requests["into the team"].pk}"' in page
    assert approve.status_code == 404 and approve_ui.status_code == 404
    unseen.refresh_from_db()
    assert unseen.status == "pending" and not unseen.approvals.exists()


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_a_scoped_role_lists_the_deal_moves_into_and_out_of_its_scope_only(
    user_client, world, moves, role
):
    client = user_client(world.workspace, role=role, **membership_kwargs(world, role))

    listed = _listed(client, "/api/v1/transition-moves/")

    assert listed == {moves["Deal in"].pk, moves["Deal out"].pk}
    if role != "rep":  # the moves page is for managers and up
        page = client.get("/transitions/moves/").content.decode()
        assert "Deal in" in page and "Deal out" in page and "Deal elsewhere" not in page


def test_a_director_sees_a_move_of_an_account_in_their_subtree(user_client, world):
    """Neither member is in the director's scope: the account's territory is."""
    move = _move(
        world,
        name="Deal in West",
        from_member=world.outside.member,
        to_member=world.stranger,
        territory=world.inside.territory,
    )
    director = user_client(world.workspace, role="director", territory=world.director_territory)
    manager = user_client(world.workspace, role="manager", member=world.lead)

    assert director.get(f"/api/v1/transition-moves/{move.pk}/").status_code == 200
    # Lead's team holds a slot in West/North, so the territory brings it into their scope too.
    assert manager.get(f"/api/v1/transition-moves/{move.pk}/").status_code == 200
    assert _listed(user_client(world.workspace, role="rep", member=world.stranger),
                   "/api/v1/transition-moves/") == {move.pk}  # fmt: skip


def test_a_manager_cannot_name_a_record_outside_their_scope_in_a_request(user_client, world):
    from tests.allocation.factories import AllocationFactory

    client = user_client(world.workspace, role="manager", member=world.lead)
    outside_account = AccountFactory(
        workspace=world.workspace, owner=world.outside.member, territory=world.outside.territory
    )
    outside_entry = AllocationFactory(
        workspace=world.workspace, owner=world.outside.member, territory=world.outside.territory
    )
    inside_account = AccountFactory(
        workspace=world.workspace, owner=world.inside.member, territory=world.inside.territory
    )
    body = {"to_member": world.stranger.pk, "reason": "rebalance"}

    account = client.post(
        "/api/v1/reassignment-requests/", {**body, "accounts": [outside_account.pk]}, format="json"
    )
    entry = client.post(
        "/api/v1/reassignment-requests/",
        {**body, "allocations": [outside_entry.pk]},
        format="json",
    )
    mine = client.post(
        "/api/v1/reassignment-requests/", {**body, "accounts": [inside_account.pk]}, format="json"
    )

    assert account.status_code == 400 and "accounts" in account.json()
    assert entry.status_code == 400 and "allocations" in entry.json()
    assert mine.status_code == 201, mine.json()  # to another team: approvals decide
    assert ReassignmentRequest.objects.filter(workspace=world.workspace).count() == 1
