"""The caller's own workspace: its name and the owner of last resort (`default_member`)."""

from django.db import transaction
from rest_framework import generics

from . import services
from .api import WorkspaceScopedSerializer, workspace_of
from .models import Workspace


class WorkspaceSerializer(WorkspaceScopedSerializer):
    class Meta:
        model = Workspace
        fields = [
            "id",
            "slug",
            "name",
            "default_member",
            "account_ownership_writeback",
            "fiscal_year_start_month",
            "reassignment_approval",
            "created_at",
        ]
        read_only_fields = ["slug", "created_at"]


class CurrentWorkspaceView(generics.RetrieveUpdateAPIView):
    """`GET/PATCH /api/v1/workspace/`: no id in the path, a key only ever sees its own."""

    serializer_class = WorkspaceSerializer
    access_rules = {"PUT": ("write", "admin"), "PATCH": ("write", "admin")}

    def get_object(self):
        return workspace_of(self.request)

    @transaction.atomic
    def perform_update(self, serializer):
        before = self.get_serializer(serializer.instance).data
        workspace = serializer.save()
        services.audit_record(
            workspace=workspace,
            actor=services.actor_from_request(self.request),
            action="update",
            obj=workspace,
            before=before,
            after=self.get_serializer(workspace).data,
        )
