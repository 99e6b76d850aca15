"""The scoped base viewset owns get_queryset: every API viewset is built on it."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import viewsets

from allocation.models import Allocation
from revorg.api import WorkspaceScopedGenericViewSet


def api_viewsets() -> set[type]:
    found = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                view_class = getattr(pattern.callback, "cls", None)
                if view_class is not None and issubclass(view_class, viewsets.ViewSetMixin):
                    found.add(view_class)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_api_viewset_is_workspace_scoped_and_none_overrides_get_queryset():
    found = api_viewsets()
    assert {view.__name__ for view in found} >= {"AllocationViewSet", "MemberViewSet"}
    assert {v.__name__ for v in found if not issubclass(v, WorkspaceScopedGenericViewSet)} == set()
    assert {
        v.__name__
        for v in found
        for klass in v.__mro__
        if "get_queryset" in vars(klass)
        and klass is not WorkspaceScopedGenericViewSet
        and issubclass(klass, WorkspaceScopedGenericViewSet)
    } == set()


def test_a_viewset_that_overrides_get_queryset_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="scoped_queryset"):

        class Leaky(WorkspaceScopedGenericViewSet):
            queryset = Allocation.objects.all()

            def get_queryset(self):
                return Allocation.objects.all()
