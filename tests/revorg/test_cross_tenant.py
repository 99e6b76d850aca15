"""Another workspace's objects are invisible: every detail route answers 404 to a foreign key."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.tenant_cases import DETAIL_ROUTES


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
