"""`revorg.scope`: which members and territories each role's membership covers (DESIGN §9)."""

import pytest

from revorg.scope import (
    EVERYTHING,
    NOTHING,
    member_ids_managed_by,
    row_scope_for_membership,
    territory_subtree_ids,
)
from tests.factories import MemberFactory, MembershipFactory
from tests.role_cases import role_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(workspace):
    return role_world(workspace)


def _scope(world, role, **links):
    return row_scope_for_membership(
        membership=MembershipFactory(workspace=world.workspace, role=role, **links)
    )


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_viewers_and_admins_see_everything(world, role):
    assert _scope(world, role) == EVERYTHING


def test_a_rep_sees_their_member_and_the_territories_they_hold_a_slot_in(world):
    scope = _scope(world, "rep", member=world.inside.member)
    assert scope.member_ids == {world.inside.member.pk}
    assert scope.territory_ids == {world.inside.territory.pk}


def test_a_manager_sees_their_reports_at_every_depth_and_their_territories(world):
    scope = _scope(world, "manager", member=world.lead)
    assert world.lead.pk in scope.member_ids and world.inside.member.pk in scope.member_ids
    assert world.outside.member.pk not in scope.member_ids
    assert scope.territory_ids == {world.inside.territory.pk}


def test_a_director_sees_their_subtree_and_the_members_slotted_in_it(world):
    scope = _scope(world, "director", territory=world.director_territory)
    assert scope.territory_ids == {world.director_territory.pk, world.inside.territory.pk}
    assert scope.member_ids == {world.inside.member.pk}


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_a_scoped_role_without_its_member_or_territory_sees_nothing(world, role):
    assert _scope(world, role) == NOTHING


def test_a_manager_cycle_ends(workspace, other_workspace):
    a = MemberFactory(workspace=workspace)
    b = MemberFactory(workspace=workspace, manager=a)
    a.manager = b
    a.save()
    assert member_ids_managed_by(workspace_id=workspace.pk, member_id=a.pk) == {a.pk, b.pk}
    assert member_ids_managed_by(workspace_id=other_workspace.pk, member_id=a.pk) == set()


def test_a_subtree_stays_in_its_workspace(world, other_workspace):
    west = world.director_territory
    assert territory_subtree_ids(workspace_id=other_workspace.pk, territory_id=west.pk) == set()
