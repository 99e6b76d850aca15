"""The base every workspace resource is built on: scoping happens here, once.

- `WorkspaceScopedViewSet` filters its queryset to the request's workspace, stamps
  `workspace` on create and writes an audit entry (before/after) for every change.
- `WorkspaceScopedSerializer` restricts every related-object field to the same workspace,
  so another workspace's id in a payload is a 400, as if it did not exist.
"""

from django.db import transaction
from rest_framework import relations, serializers, viewsets

from . import services


def workspace_of(request):
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        raise RuntimeError("no workspace bound to the request: is WorkspaceAccess in place?")
    return workspace


def scope_to_workspace(queryset, workspace):
    model = queryset.model
    if any(field.name == "workspace" for field in model._meta.get_fields()):
        return queryset.filter(workspace=workspace)
    raise RuntimeError(f"{model.__name__} has no workspace field: it cannot be scoped")


class WorkspaceScopedSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        workspace = getattr(request, "workspace", None) if request else None
        for field in fields.values():
            target = (
                field.child_relation if isinstance(field, relations.ManyRelatedField) else field
            )
            if isinstance(target, relations.RelatedField) and target.queryset is not None:
                target.queryset = (
                    scope_to_workspace(target.queryset, workspace)
                    if workspace is not None
                    else target.queryset.none()
                )
        return fields


class WorkspaceScopedViewSet(viewsets.ModelViewSet):
    """Subclasses set `queryset`, `serializer_class` and optionally `filterset_class`."""

    audit = True
    lookup_value_regex = "[0-9]+"  # /things/null/ is a 404 from the router, not a 500

    def get_queryset(self):
        return scope_to_workspace(super().get_queryset(), workspace_of(self.request))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["workspace"] = getattr(self.request, "workspace", None)
        context["actor"] = services.actor_from_request(self.request)
        return context

    def _audit(self, action, instance, before, after):
        if self.audit:
            services.audit_record(
                workspace=workspace_of(self.request),
                actor=services.actor_from_request(self.request),
                action=action,
                obj=instance,
                before=before,
                after=after,
            )

    def create_kwargs(self) -> dict:
        """Extra attributes stamped on a new object besides its workspace (e.g. a parent)."""
        return {}

    @transaction.atomic
    def perform_create(self, serializer):
        instance = serializer.save(workspace=workspace_of(self.request), **self.create_kwargs())
        self._audit("create", instance, None, self.get_serializer(instance).data)

    @transaction.atomic
    def perform_update(self, serializer):
        before = self.get_serializer(serializer.instance).data
        instance = serializer.save()
        self._audit("update", instance, before, self.get_serializer(instance).data)

    @transaction.atomic
    def perform_destroy(self, instance):
        before = self.get_serializer(instance).data
        self._audit("delete", instance, before, None)
        instance.delete()
