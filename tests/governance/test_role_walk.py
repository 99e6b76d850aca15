"""Every route walked as every role (DESIGN §9): an object in the caller's scope is visible,
one outside it is a 404 (as another workspace's), and a write beyond the role is a 403. The
routes come from the URL confs, so a new one without a case in tests/role_cases.py fails."""

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from revorg.models import ROLE_RANK
from tests.factories import MembershipFactory
from tests.revorg.test_cross_tenant import _api_detail_route_names, _ui_routes_with_an_id
from tests.role_cases import API_CASES, UI_CASES, membership_kwargs, role_world

ROLES = ["viewer", "rep", "manager", "director", "admin"]
SCOPED_ROLES = {"rep", "manager", "director"}


def _rank(role: str) -> int:
    return ROLE_RANK[role]


def _client_as(world, role: str) -> APIClient:
    membership = MembershipFactory(
        workspace=world.workspace, role=role, **membership_kwargs(world, role)
    )
    client = APIClient()
    client.force_login(membership.user)
    return client


def _rows(workspace) -> dict:
    """Every row of every workspace-owned table, to prove a refused write changed nothing."""
    return {
        model._meta.label: list(model._default_manager.filter(workspace=workspace).values())
        for model in apps.get_models()
        if any(field.name == "workspace" for field in model._meta.get_fields())
        and model._meta.label != "revorg.AuditEntry"
    }


@pytest.fixture
def world(workspace):
    return role_world(workspace)


def test_every_api_detail_route_and_ui_route_has_a_role_case():
    assert _api_detail_route_names() ^ set(API_CASES) == set()
    assert _ui_routes_with_an_id() ^ set(UI_CASES) == set()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route_name", sorted(API_CASES))
def test_api_route_as_each_role(route_name, role, world):
    case = API_CASES[route_name]
    client = _client_as(world, role)
    inside = reverse(route_name, kwargs=case.make(world.inside))
    outside = reverse(route_name, kwargs=case.make(world.outside))
    may_read = _rank(role) >= _rank(case.read_role)
    may_write = _rank(role) >= _rank(case.write_role)
    hidden = case.scoped and role in SCOPED_ROLES

    assert client.get(inside).status_code == (200 if may_read else 403)
    assert client.get(outside).status_code == (
        404 if may_read and hidden else 200 if may_read else 403
    )

    answer = client.patch(inside, {}, format="json").status_code
    assert answer not in (403, 404) if may_write else answer == 403
    before = _rows(world.workspace) if not may_write or hidden else None
    for write in (client.patch, client.delete):
        answer = write(outside, {}, format="json").status_code
        if not may_write:
            assert answer == 403
        elif hidden:
            assert answer == 404
    if not may_write or hidden:
        assert _rows(world.workspace) == before


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
@pytest.mark.parametrize("route_name", sorted(UI_CASES))
def test_ui_route_as_each_scoped_role(route_name, role, world):
    case = UI_CASES[route_name]
    client = _client_as(world, role)
    inside = reverse(f"ui:{route_name}", kwargs=case.make(world.inside))
    outside = reverse(f"ui:{route_name}", kwargs=case.make(world.outside))
    before = _rows(world.workspace)

    if _rank(role) < _rank(case.read_role):
        assert client.get(outside).status_code in (403, 405)
        assert client.post(outside, {}).status_code == 403
        assert client.get(inside).status_code in (403, 405)
    elif case.scoped:
        assert client.get(outside).status_code in (404, 405)  # 405: a POST-only action
        assert client.post(outside, {}).status_code == 404
        assert client.get(inside).status_code in (200, 302, 405)
    else:
        assert client.get(outside).status_code in (200, 302, 405)
    assert _rows(world.workspace) == before


@pytest.mark.parametrize("role", ["viewer", "admin"])
@pytest.mark.parametrize("route_name", sorted(UI_CASES))
def test_ui_route_as_an_unscoped_role_sees_every_object(route_name, role, world):
    case = UI_CASES[route_name]
    client = _client_as(world, role)
    for anchor in (world.inside, world.outside):
        url = reverse(f"ui:{route_name}", kwargs=case.make(anchor))
        expected = (200, 302, 405) if _rank(role) >= _rank(case.read_role) else (403, 405)
        assert client.get(url).status_code in expected
