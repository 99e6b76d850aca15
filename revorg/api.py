"""The base every workspace resource is built on: scoping happens here, once.

- `WorkspaceScopedGenericViewSet` filters its queryset to the request's workspace (the only
  `get_queryset`; subclasses narrow with `scoped_queryset`); `WorkspaceScopedViewSet` adds
  CRUD, stamps `workspace` on create and audits every change (before/after).
- `WorkspaceScopedSerializer` restricts every related-object field to the same workspace,
  so another workspace's id in a payload is a 400, as if it did not exist; and to the
  caller's row scope (`revorg.scope`), so a member or territory outside it is unknown too.
- Both narrow rows to the caller's row scope after the workspace: a row outside a person's
  scope is a 404, as another workspace's is.
"""

from django.db import transaction
from rest_framework import mixins, relations, serializers, viewsets

from . import services
from .scope import model_is_scoped, row_scope_for_request, rows_in_scope


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
        # Fields that may name any object of the workspace, whatever the caller's scope
        # (e.g. the new owner a reassignment request proposes: approvals decide).
        workspace_wide = getattr(getattr(self, "Meta", None), "workspace_wide_fields", ())
        for name, field in fields.items():
            target = (
                field.child_relation if isinstance(field, relations.ManyRelatedField) else field
            )
            if isinstance(target, relations.RelatedField) and target.queryset is not None:
                target.queryset = (
                    scope_to_workspace(target.queryset, workspace)
                    if workspace is not None
                    else target.queryset.none()
                )
                if (
                    workspace is not None
                    and name not in workspace_wide
                    and model_is_scoped(target.queryset.model)
                ):
                    target.queryset = self._in_scope_or_kept(target, name, request)
        return fields

    def _in_scope_or_kept(self, field, name, request):
        """The caller's scope, plus the object the field already holds: a director editing
        the root of their subtree keeps its parent, which lies outside it."""
        in_scope = rows_in_scope(field.queryset, scope=row_scope_for_request(request))
        # Not bound yet (get_fields runs before binding): the source is the declared one or
        # the field's name.
        source = field.source or name
        kept = getattr(self.instance, f"{source}_id", None) if "." not in source else None
        if kept is None or isinstance(self.instance, list | tuple):
            return in_scope
        return in_scope | field.queryset.filter(pk=kept)


class WorkspaceScopedGenericViewSet(viewsets.GenericViewSet):
    """Owns `get_queryset`: the workspace filter comes first, then the subclass's
    `scoped_queryset` hook narrows further (PostHog's `safely_get_queryset`). Subclasses may
    not override `get_queryset`, so no viewset can forget the workspace."""

    audit = True
    lookup_value_regex = "[0-9]+"  # /things/null/ is a 404 from the router, not a 500

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset: implement scoped_queryset instead"
            )

    def get_queryset(self):
        queryset = scope_to_workspace(super().get_queryset(), workspace_of(self.request))
        queryset = rows_in_scope(queryset, scope=self.row_scope)
        return self.scoped_queryset(queryset)

    @property
    def row_scope(self):
        """The members and territories the caller sees (everything for API keys)."""
        return row_scope_for_request(self.request)

    def scoped_queryset(self, queryset):
        """Narrow the workspace's rows in the caller's scope further (a parent from the URL,
        a default filter)."""
        return queryset

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


class WorkspaceScopedViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    WorkspaceScopedGenericViewSet,
):
    """Subclasses set `queryset`, `serializer_class` and optionally `filterset_class`."""

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
