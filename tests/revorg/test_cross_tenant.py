"""Another workspace's objects are invisible: every detail route answers 404 to a foreign key."""

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from console import urls as ui_urls
from tests.tenant_cases import DETAIL_ROUTES, UI_ROUTES


def _api_detail_route_names() -> set[str]:
    names = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif (
                isinstance(pattern, URLPattern)
                and route.startswith("api/v1/")
                and (pattern.name or "").endswith("-detail")
            ):
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_detail_route_has_a_cross_tenant_case():
    assert _api_detail_route_names() - set(DETAIL_ROUTES) == set()


@pytest.mark.parametrize("route_name", sorted(DETAIL_ROUTES))
def test_foreign_key_gets_404_and_cannot_change(route_name, workspace, other_api):
    kwargs = DETAIL_ROUTES[route_name](workspace)
    url = reverse(route_name, kwargs=kwargs)

    assert other_api.get(url).status_code == 404
    assert other_api.patch(url, {}, format="json").status_code == 404
    assert other_api.delete(url).status_code == 404


@pytest.mark.parametrize("route_name", sorted(DETAIL_ROUTES))
def test_owner_sees_the_object(route_name, workspace, api):
    kwargs = DETAIL_ROUTES[route_name](workspace)
    assert api.get(reverse(route_name, kwargs=kwargs)).status_code == 200


def _ui_routes_with_an_id() -> set[str]:
    return {
        pattern.name
        for pattern in ui_urls.urlpatterns
        if any(converter.regex == "[0-9]+" for converter in pattern.pattern.converters.values())
    }


def _workspace_rows(workspace) -> dict:
    """Every row of every workspace-owned table of `workspace`, to prove nothing changed."""
    return {
        model._meta.label: list(model._default_manager.filter(workspace=workspace).values())
        for model in apps.get_models()
        if any(field.name == "workspace" for field in model._meta.get_fields())
    }


def test_every_ui_route_with_an_id_has_a_cross_tenant_case():
    assert _ui_routes_with_an_id() - set(UI_ROUTES) == set()
    assert set(UI_ROUTES) - _ui_routes_with_an_id() == set()


@pytest.mark.parametrize("route_name", sorted(UI_ROUTES))
def test_ui_route_answers_404_to_another_workspace_and_changes_nothing(
    route_name, workspace, other_workspace, user_client
):
    kwargs = UI_ROUTES[route_name](workspace)
    url = reverse(f"ui:{route_name}", kwargs=kwargs)
    before = _workspace_rows(workspace)
    other_admin = user_client(other_workspace, role="admin")

    assert other_admin.post(url, {}).status_code == 404
    assert other_admin.get(url).status_code in (404, 405)  # 405: a POST-only action
    assert _workspace_rows(workspace) == before


@pytest.mark.parametrize("route_name", sorted(UI_ROUTES))
def test_ui_route_finds_the_object_in_its_own_workspace(route_name, workspace, user_client):
    kwargs = UI_ROUTES[route_name](workspace)
    response = user_client(workspace, role="admin").get(reverse(f"ui:{route_name}", kwargs=kwargs))
    # 405: a POST-only action past the lookup; 302: a form route sending GETs to its page
    assert response.status_code in (200, 302, 405)
    assert not response.get("Location", "").startswith("/login")
