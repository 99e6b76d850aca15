from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from allocation.api.serializers import AllocationSerializer
from allocation.models import Allocation
from allocation.rendering import allocation_render
from revorg.api import WorkspaceScopedViewSet, workspace_of
from revorg.models import ROLE_RANK, Role
from revorg.services import actor_from_request

from .. import services
from ..models import AcceptedVia, SlaPolicy
from ..selectors import time_to_accept_named
from .serializers import (
    SlaPolicySerializer,
    TimeToAcceptQuerySerializer,
    TimeToAcceptRowSerializer,
)


class SlaPolicyViewSet(WorkspaceScopedViewSet):
    """Per territory (and its subtree) or for the workspace (`territory: null`)."""

    queryset = SlaPolicy.objects.all()
    serializer_class = SlaPolicySerializer
    filterset_fields = ["territory", "on_breach"]


def may_accept(request, allocation: Allocation) -> bool:
    """The owner accepts; so may a manager (or higher) for them, and a key with `allocate`."""
    if request.auth is not None:
        return request.auth.has_scope("allocate")
    membership = getattr(request, "membership", None)
    if membership is None:
        return False
    if ROLE_RANK[membership.role] >= ROLE_RANK[Role.MANAGER]:
        return True
    return membership.member_id is not None and membership.member_id == allocation.owner_id


class AllocationAcceptView(APIView):
    """`POST /allocations/{id}/accept/`: the owner takes the record; its SLA clock stops."""

    access_rules = {"POST": ("allocate", "rep")}

    @extend_schema(request=None, responses={200: AllocationSerializer})
    def post(self, request, pk: int):
        workspace = workspace_of(request)
        allocation = get_object_or_404(Allocation.objects.filter(workspace=workspace), pk=pk)
        if not may_accept(request, allocation):
            raise PermissionDenied("Only the owner (or a manager) accepts a record.")
        services.allocation_accept(
            workspace=workspace,
            actor=actor_from_request(request),
            allocation=allocation,
            via=AcceptedVia.API,
        )
        fresh = Allocation.objects.select_related("owner", "territory", "sla").get(pk=pk)
        return Response(allocation_render(fresh), status=status.HTTP_200_OK)


class TimeToAcceptView(APIView):
    """`GET /analytics/time-to-accept/?by=member|territory&since=&until=`."""

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=["member", "territory"]),
            OpenApiParameter("since", str, description="ISO 8601; acceptances from then"),
            OpenApiParameter("until", str, description="ISO 8601; acceptances before then"),
        ],
        responses=TimeToAcceptRowSerializer(many=True),
        description="Time from allocation to acceptance (wall-clock minutes), p50 and p90, "
        "per member or per territory.",
    )
    def get(self, request):
        query = TimeToAcceptQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = time_to_accept_named(
            workspace=workspace_of(request),
            by=query.validated_data["by"],
            since=query.validated_data.get("since"),
            until=query.validated_data.get("until"),
        )
        return Response(sorted(rows, key=lambda row: row["id"]))
