from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from revorg.api import WorkspaceScopedViewSet, workspace_of
from revorg.csv_api import UPLOAD_PARSERS, csv_import_response, export_schema, import_schema
from revorg.csv_io import csv_response
from revorg.errors import ApplicationError
from revorg.parsing import parse_id
from revorg.services import actor_from_request

from .. import csv_io, selectors, services
from ..filtersets import AccountLockFilterSet, TerritoryFilterSet
from ..models import AccountLock, Territory, TerritoryPlan
from .serializers import (
    AccountLockSerializer,
    CloneRequestSerializer,
    MatchRequestSerializer,
    ResolutionSerializer,
    TerritoryPlanSerializer,
    TerritorySerializer,
    resolution_payload,
)

READ_ONLY_POST = ("read", "viewer")
IMPORT_PLAN = OpenApiParameter(
    "plan", int, description="the plan written to (draft or active); default: the active plan"
)


class TerritoryPlanViewSet(WorkspaceScopedViewSet):
    queryset = TerritoryPlan.objects.all()
    serializer_class = TerritoryPlanSerializer
    filterset_fields = ["status"]

    @transaction.atomic
    def perform_destroy(self, instance):
        self._audit("delete", instance, TerritoryPlanSerializer(instance).data, None)
        services.plan_delete(plan=instance)

    @extend_schema(request=CloneRequestSerializer, responses={201: TerritoryPlanSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        plan = self.get_object()
        name = request.data.get("name") if isinstance(request.data, dict) else None
        if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 200):
            raise ApplicationError("must be 1 to 200 characters", field="name")
        with transaction.atomic():
            clone = services.plan_clone(plan=plan, name=name, actor=actor_from_request(request))
        return Response(TerritoryPlanSerializer(clone).data, status=status.HTTP_201_CREATED)


class TerritoryViewSet(WorkspaceScopedViewSet):
    queryset = Territory.objects.prefetch_related("slots")
    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilterSet
    # Directors edit the territories of their subtree (DESIGN §9); others are out of scope.
    access_rules = {
        "match": READ_ONLY_POST,
        **{
            action: ("write", "director")
            for action in ("create", "update", "partial_update", "destroy")
        },
    }

    def scoped_queryset(self, queryset):
        if self.action == "list" and "plan" not in self.request.query_params:
            active = selectors.plan_get_active(workspace=workspace_of(self.request))
            queryset = queryset.filter(plan=active)
        return queryset

    def perform_create(self, serializer):
        if not self.row_scope.is_everything and serializer.validated_data.get("parent") is None:
            raise PermissionDenied("A territory you add must be inside your territory's subtree.")
        super().perform_create(serializer)

    def perform_destroy(self, instance):
        before = self.get_serializer(instance).data
        with transaction.atomic():
            self._audit("delete", instance, before, None)
            services.territory_delete(territory=instance)

    @extend_schema(request=MatchRequestSerializer, responses=ResolutionSerializer)
    @action(detail=False, methods=["post"])
    def match(self, request):
        """Explain which territory a record belongs to. Nothing is written."""
        workspace = workspace_of(request)
        serializer = MatchRequestSerializer(data=request.data, context={"workspace": workspace})
        serializer.is_valid(raise_exception=True)
        resolution = selectors.territory_resolve(
            workspace=workspace,
            fields=serializer.validated_data["record"]["fields"],
            plan=serializer.validated_data.get("plan"),
        )
        return Response(resolution_payload(resolution))

    @import_schema(description=csv_io.__doc__, parameters=[IMPORT_PLAN])
    @action(detail=False, methods=["post"], url_path="import", parser_classes=UPLOAD_PARSERS)
    def import_csv(self, request):
        return csv_import_response(
            request,
            csv_io.territory_import,
            plan_id=parse_id(request.query_params.get("plan"), field="plan"),
        )

    @import_schema(
        description="Named accounts as CSV (`territory`, `account` per row), added to the "
        "named-account lists of the plan's territories; all or nothing.",
        parameters=[IMPORT_PLAN],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="named-accounts/import",
        parser_classes=UPLOAD_PARSERS,
    )
    def import_named_accounts(self, request):
        return csv_import_response(
            request,
            csv_io.named_account_import,
            plan_id=parse_id(request.query_params.get("plan"), field="plan"),
        )

    @export_schema(
        description="Territories as CSV (the import's columns, rules as JSON), with the list's "
        "filters; without `plan`, the active plan's."
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export_csv(self, request):
        territories = self.filter_queryset(self.get_queryset())
        if "plan" not in request.query_params:
            territories = territories.filter(
                plan=selectors.plan_get_active(workspace=workspace_of(request))
            )
        return csv_response(
            filename="territories.csv",
            header=csv_io.EXPORT_COLUMNS,
            rows=csv_io.territory_export_rows(queryset=territories),
        )


class AccountLockViewSet(WorkspaceScopedViewSet):
    queryset = AccountLock.objects.select_related("territory")
    serializer_class = AccountLockSerializer
    filterset_class = AccountLockFilterSet
    # A director locks accounts to territories of their subtree (the serializer scopes it).
    access_rules = {
        action: ("write", "director")
        for action in ("create", "update", "partial_update", "destroy")
    }

    def perform_destroy(self, instance):
        before = self.get_serializer(instance).data
        with transaction.atomic():
            self._audit("delete", instance, before, None)
            services.lock_delete(lock=instance)
