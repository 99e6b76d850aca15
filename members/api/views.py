from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action

from revorg.api import WorkspaceScopedViewSet, workspace_of
from revorg.csv_api import UPLOAD_PARSERS, csv_import_response, export_schema, import_schema
from revorg.csv_io import csv_response
from revorg.scope import rows_in_scope
from territories import services as territory_services

from .. import csv_io
from ..filtersets import MemberFilterSet
from ..models import Absence, Member
from .serializers import AbsenceSerializer, MemberSerializer


class MemberViewSet(WorkspaceScopedViewSet):
    queryset = Member.objects.select_related("manager")
    serializer_class = MemberSerializer
    filterset_class = MemberFilterSet

    @transaction.atomic
    def perform_destroy(self, instance):
        territory_services.member_removed(member=instance)
        super().perform_destroy(instance)

    @import_schema(description=csv_io.__doc__)
    @action(detail=False, methods=["post"], url_path="import", parser_classes=UPLOAD_PARSERS)
    def import_csv(self, request):
        return csv_import_response(request, csv_io.member_import)

    @export_schema(description="Members as CSV (the import's columns), with the list's filters.")
    @action(detail=False, methods=["get"], url_path="export")
    def export_csv(self, request):
        members = self.filter_queryset(self.get_queryset())
        return csv_response(
            filename="members.csv",
            header=csv_io.EXPORT_COLUMNS,
            rows=csv_io.member_export_rows(queryset=members),
        )


@extend_schema_view(
    **{
        action: extend_schema(
            parameters=[OpenApiParameter("member_pk", int, OpenApiParameter.PATH)]
        )
        for action in ["list", "create", "retrieve", "update", "partial_update", "destroy"]
    }
)
class AbsenceViewSet(WorkspaceScopedViewSet):
    """Time off of one member; the member must belong to the caller's workspace."""

    queryset = Absence.objects.all()
    serializer_class = AbsenceSerializer
    access_rules = {
        "create": ("write", "manager"),
        "update": ("write", "manager"),
        "partial_update": ("write", "manager"),
        "destroy": ("write", "manager"),
    }

    def get_member(self) -> Member:
        members = Member.objects.filter(workspace=workspace_of(self.request))
        return get_object_or_404(
            rows_in_scope(members, scope=self.row_scope), pk=self.kwargs["member_pk"]
        )

    def scoped_queryset(self, queryset):
        return queryset.filter(member=self.get_member())

    def create_kwargs(self) -> dict:
        return {"member": self.get_member()}
