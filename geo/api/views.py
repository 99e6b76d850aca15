"""`/api/v1/analytics/map/…`: the map's data (read scope) and the locate job (write)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from revorg.api import workspace_of
from revorg.errors import NotFoundError
from revorg.services import actor_from_request

from .. import selectors, services
from ..filters import bbox_from, filters_from, zoom_from
from .serializers import MapPinsSerializer, MapRegionDetailSerializer, MapRegionsSerializer

FILTER_PARAMETERS = [
    OpenApiParameter("owner", OpenApiTypes.INT, description="Only this member's accounts."),
    OpenApiParameter("level", OpenApiTypes.INT, description="Territories at this depth."),
]
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period_start",
        OpenApiTypes.DATE,
        description="Attainment's period, first day (with period_end); default this quarter.",
    ),
    OpenApiParameter("period_end", OpenApiTypes.DATE, description="last day, inclusive"),
]


class MapRegionsView(APIView):
    """`GET /analytics/map/regions/`: the world view. Accounts not placed yet start the
    locate job; a large book's stale summary starts the summarize job (one at a time)."""

    @extend_schema(
        operation_id="analytics_map_regions_retrieve",
        parameters=[*FILTER_PARAMETERS, *PERIOD_PARAMETERS],
        responses=MapRegionsSerializer,
    )
    def get(self, request):
        workspace = workspace_of(request)
        payload = selectors.map_regions(
            workspace=workspace, filters=filters_from(request.query_params, workspace)
        )
        actor_label = actor_from_request(request).label
        if payload["placement"]["pending"]:
            services.accounts_locate_request(workspace=workspace, actor_label=actor_label)
        elif payload["refreshing"]:
            services.regions_summarize_request(workspace=workspace, actor_label=actor_label)
        return Response(payload)


class MapRegionView(APIView):
    """`GET /analytics/map/regions/{code}/`: a country or US state's territories and
    orphaned accounts."""

    @extend_schema(
        operation_id="analytics_map_region_retrieve",
        parameters=FILTER_PARAMETERS,
        responses=MapRegionDetailSerializer,
    )
    def get(self, request, code: str):
        workspace = workspace_of(request)
        region = selectors.map_region(
            workspace=workspace,
            code=code.upper(),
            filters=filters_from(request.query_params, workspace),
        )
        if region is None:
            raise NotFoundError(f"No region {code!r}: use an ISO country or US state code.")
        return Response(region)


class MapPinsView(APIView):
    """`GET /analytics/map/pins/?bbox=west,south,east,north&zoom=`: clustered pins of the
    visible area (server-side grid clustering per zoom level)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "bbox", str, required=True, description="west,south,east,north in degrees."
            ),
            OpenApiParameter("zoom", OpenApiTypes.INT, description="0 (world) to 14."),
            *FILTER_PARAMETERS,
        ],
        responses=MapPinsSerializer,
    )
    def get(self, request):
        workspace = workspace_of(request)
        params = request.query_params
        return Response(
            selectors.map_pins(
                workspace=workspace,
                bbox=bbox_from(params),
                zoom=zoom_from(params),
                filters=filters_from(params, workspace),
            )
        )


class MapLocateView(APIView):
    """`POST /analytics/map/locate/`: 202 with the job placing every account anew from its
    address (one at a time per workspace: 202 with the running one)."""

    access_rules = {"POST": ("write", "admin")}

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request):
        workspace = workspace_of(request)
        job = services.accounts_locate_ensure(
            workspace=workspace, actor_label=actor_from_request(request).label
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
