from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from revorg.api import WorkspaceScopedViewSet, workspace_of
from revorg.csv_api import UPLOAD_PARSERS, csv_import_response, export_schema, import_schema
from revorg.csv_io import csv_response
from revorg.errors import ApplicationError
from revorg.parsers import JsonOnlyNegotiation
from revorg.parsing import BadParameter, parse_id, parse_int
from territories.models import TerritoryKind, TerritoryPlan
from territories.selectors import plan_get_active

from .. import csv_io, selectors
from ..filtersets import MemberRampFilterSet, QuotaFilterSet
from ..models import MemberRamp, Quota
from ..periods import Period, period_parse
from .serializers import (
    MemberAnalyticsSerializer,
    MemberRampSerializer,
    QuotaSerializer,
    TerritoryAnalyticsSerializer,
)

MANAGER_WRITES = {
    action: ("write", "manager") for action in ("create", "update", "partial_update", "destroy")
}


class _OnePerOwner:
    """Two simultaneous writes of the same owner (and period) both pass validation; the
    database's unique constraint lets one in and the other is the 400 validation gives."""

    duplicate_field = ""
    duplicate_message = ""

    def _saved_once(self, save, serializer):
        try:
            with transaction.atomic():
                save(serializer)
        except IntegrityError:
            raise ApplicationError(self.duplicate_message, field=self.duplicate_field) from None

    def perform_create(self, serializer):
        self._saved_once(super().perform_create, serializer)

    def perform_update(self, serializer):
        self._saved_once(super().perform_update, serializer)


class QuotaViewSet(_OnePerOwner, WorkspaceScopedViewSet):
    """Targets per territory or member and period; managers set them in the UI, keys need
    the `write` scope."""

    queryset = Quota.objects.all()
    serializer_class = QuotaSerializer
    filterset_class = QuotaFilterSet
    access_rules = {**MANAGER_WRITES, "import_csv": ("write", "manager")}
    duplicate_field = "period_start"
    duplicate_message = "a quota for this owner and period exists; update it"

    @import_schema(description=csv_io.__doc__)
    @action(detail=False, methods=["post"], url_path="import", parser_classes=UPLOAD_PARSERS)
    def import_csv(self, request):
        return csv_import_response(request, csv_io.quota_import)

    @export_schema(description="Quotas as CSV (the import's columns), with the list's filters.")
    @action(detail=False, methods=["get"], url_path="export")
    def export_csv(self, request):
        return csv_response(
            filename="quotas.csv",
            header=csv_io.QUOTA_COLUMNS,
            rows=csv_io.quota_export_rows(queryset=self.filter_queryset(self.get_queryset())),
        )


class MemberRampViewSet(_OnePerOwner, WorkspaceScopedViewSet):
    """New reps' ramps: the share of quota they carry month by month from their start."""

    duplicate_field = "member"
    duplicate_message = "this member has a ramp already; update it"

    queryset = MemberRamp.objects.all()
    serializer_class = MemberRampSerializer
    filterset_class = MemberRampFilterSet
    access_rules = MANAGER_WRITES


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


class CsvOrJsonNegotiation(JsonOnlyNegotiation):
    """`?format=` is json or csv; anything else is a 400 naming it (DRF would answer 404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if wanted and wanted not in {renderer.format for renderer in renderers}:
            raise BadParameter("Format must be json or csv.", field="format")
        return super().select_renderer(request, renderers, format_suffix)


ANALYTICS_PARAMETERS = [
    OpenApiParameter("period_start", OpenApiTypes.DATE, description="first day (with period_end)"),
    OpenApiParameter("period_end", OpenApiTypes.DATE, description="last day, inclusive"),
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        enum=TerritoryKind.values,
        description="only territories of this kind (members: holding a slot in one)",
    ),
    OpenApiParameter(
        "level",
        OpenApiTypes.INT,
        description="only territories at this depth, 0 = top level (members: a slot in one)",
    ),
    OpenApiParameter("plan", OpenApiTypes.INT, description="the plan; default the active one"),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
]


def analytics_query(request, workspace) -> dict:
    """The period, plan, kind and level of an analytics request; bad values a 400."""
    params = request.query_params if hasattr(request, "query_params") else request.GET
    period = period_parse(
        start_text=params.get("period_start"),
        end_text=params.get("period_end"),
        fiscal_start_month=workspace.fiscal_year_start_month,
        today=timezone.localdate(),
    )
    kind = (params.get("kind") or "").strip() or None
    if kind is not None and kind not in TerritoryKind.values:
        raise BadParameter(f"Kind must be one of {', '.join(TerritoryKind.values)}.", field="kind")
    level = parse_int(params.get("level"), field="level", minimum=0, maximum=100)
    plan_id = parse_id(params.get("plan"), field="plan")
    if plan_id is None:
        plan = plan_get_active(workspace=workspace)
    else:
        plan = TerritoryPlan.objects.filter(workspace=workspace, pk=plan_id).first()
        if plan is None:
            raise BadParameter("Plan: no such plan in this workspace.", field="plan")
    return {"period": period, "plan": plan, "kind": kind, "level": level}


class _CsvOrJsonView(APIView):
    """`?format=csv` streams a file; an error is JSON whatever the format asked for."""

    renderer_classes = [JSONRenderer, CsvRenderer]
    content_negotiation_class = CsvOrJsonNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _wants_csv(request) -> bool:
    return getattr(request.accepted_renderer, "format", "") == "csv"


def _body(query: dict, rows: list[dict]) -> dict:
    period: Period = query["period"]
    return {
        "period": {"start": period.start, "end": period.end},
        "plan": query["plan"].pk if query["plan"] else None,
        "results": rows,
    }


class TerritoryAnalyticsView(_CsvOrJsonView):
    """`GET /analytics/territories/`: performance per territory for a period, parents rolled
    up (definitions of every figure: `analytics.selectors`); `?format=csv` as a file."""

    @extend_schema(
        parameters=ANALYTICS_PARAMETERS,
        responses={200: TerritoryAnalyticsSerializer, (200, "text/csv"): OpenApiTypes.STR},
        description=selectors.__doc__,
    )
    def get(self, request):
        workspace = workspace_of(request)
        query = analytics_query(request, workspace)
        rows = (
            selectors.territory_performance(
                workspace=workspace,
                plan=query["plan"],
                period=query["period"],
                kind=query["kind"],
                level=query["level"],
            )
            if query["plan"] is not None
            else []
        )
        if _wants_csv(request):
            return csv_response(
                filename=f"territory-performance-{query['period'].start}.csv",
                header=csv_io.TERRITORY_EXPORT_COLUMNS,
                rows=csv_io.territory_export_rows(rows=rows, period=query["period"]),
            )
        return Response(_body(query, rows))


class MemberAnalyticsView(_CsvOrJsonView):
    """`GET /analytics/members/`: performance per rep for a period, overlay split credit
    included; `?format=csv` as a file."""

    @extend_schema(
        parameters=ANALYTICS_PARAMETERS,
        responses={200: MemberAnalyticsSerializer, (200, "text/csv"): OpenApiTypes.STR},
        description=selectors.__doc__,
    )
    def get(self, request):
        workspace = workspace_of(request)
        query = analytics_query(request, workspace)
        rows = selectors.member_performance(
            workspace=workspace,
            plan=query["plan"],
            period=query["period"],
            kind=query["kind"],
            level=query["level"],
        )
        if _wants_csv(request):
            return csv_response(
                filename=f"member-performance-{query['period'].start}.csv",
                header=csv_io.MEMBER_EXPORT_COLUMNS,
                rows=csv_io.member_export_rows(rows=rows, period=query["period"]),
            )
        return Response(_body(query, rows))
