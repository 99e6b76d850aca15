from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedViewSet, workspace_of
from revorg.models import Role

from .. import services
from ..filtersets import SyncRunFilterSet
from ..models import CrmConnection, SyncRun
from .serializers import CrmConnectionSerializer, SyncRunSerializer


class CrmConnectionViewSet(WorkspaceScopedViewSet):
    """Admins (keys: `write`) connect CRMs; credentials go in and never come back out."""

    queryset = CrmConnection.objects.all()
    serializer_class = CrmConnectionSerializer
    access_rules = {"retry_failed": ("write", Role.MANAGER)}  # as retrying in the UI

    @transaction.atomic
    def perform_create(self, serializer):
        data = serializer.validated_data
        connection = services.connection_create(
            workspace=workspace_of(self.request),
            provider=data["provider"],
            name=data.get("name", ""),
            settings=data.get("settings", {}),
            credentials=data["credentials"],
        )
        serializer.instance = connection
        self._audit("create", connection, None, self.get_serializer(connection).data)

    @transaction.atomic
    def perform_update(self, serializer):
        before = self.get_serializer(serializer.instance).data
        fields = dict(serializer.validated_data)
        connection = services.connection_update(
            connection=serializer.instance,
            credentials=fields.pop("credentials", None),
            **fields,
        )
        self._audit("update", connection, before, self.get_serializer(connection).data)

    @transaction.atomic
    def perform_destroy(self, instance):
        self._audit("delete", instance, self.get_serializer(instance).data, None)
        services.connection_delete(connection=instance)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "ConnectionTest", {"ok": serializers.BooleanField(), "detail": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """One authenticated call to the CRM; `ok: false` with the reason when it fails."""
        return Response(services.connection_test(connection=self.get_object()))

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "WritebackRetry",
            {"retried": serializers.IntegerField(), "superseded": serializers.IntegerField()},
        ),
    )
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        """Queues this CRM's failed write-backs again; those a newer entry of the same record
        replaced become `superseded` instead (only the current owner is ever written)."""
        connection = self.get_object()
        return Response(
            services.writeback_retry_failed(
                workspace=connection.workspace, provider=connection.provider
            )
        )

    @extend_schema(request=None, responses={202: SyncRunSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Queues a sync now (members, then the open-deal snapshot); follow it in sync-runs."""
        run = services.sync_start(connection=self.get_object())
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    # A read-only log: writes answer 405 and are not operations a client can use.
    create=extend_schema(exclude=True),
    update=extend_schema(exclude=True),
    partial_update=extend_schema(exclude=True),
    destroy=extend_schema(exclude=True),
)
class SyncRunViewSet(WorkspaceScopedViewSet):
    """The read-only log of sync runs."""

    queryset = SyncRun.objects.all()
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilterSet

    def _read_only(self, request, *args, **kwargs):
        self.get_object()  # another workspace's run is a 404 first
        raise MethodNotAllowed(request.method, detail="Sync runs are a read-only log.")

    update = partial_update = destroy = _read_only

    def create(self, request, *args, **kwargs):
        raise MethodNotAllowed(request.method, detail="Start a run with POST …/sync/.")
