from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.api.serializers import JobSerializer
from jobs.models import Job
from revorg.api import workspace_of
from revorg.csv_io import csv_response
from revorg.errors import ConflictError
from revorg.permissions import request_may
from revorg.services import actor_from_request
from territories.api.serializers import SimulationSerializer
from territories.models import TerritoryPlan
from territories.selectors import plan_records_simulate

from .. import selectors, services
from ..services import SIMULATE
from .serializers import (
    RebalanceAcceptedSerializer,
    RebalanceAcceptSerializer,
    RebalanceSerializer,
    SimulateRequestSerializer,
)

# Starting a whole-book simulation takes the workers' time: as cancelling a job does.
SIMULATE_BOOK_RULE = ("write", "manager")


def _plan(request, pk) -> TerritoryPlan:
    return get_object_or_404(TerritoryPlan, workspace=workspace_of(request), pk=pk)


class PlanSimulateView(APIView):
    """`POST /territory-plans/{id}/simulate/`: with `records`, how many each territory of the
    plan would win (200, read access is enough); without, a job simulating the plan against
    the whole book (202; `write` scope or the manager role). Nothing is written to the book."""

    access_rules = {"POST": ("read", "viewer")}

    @extend_schema(
        request=SimulateRequestSerializer,
        responses={200: SimulationSerializer, 202: JobSerializer},
    )
    def post(self, request, pk: int):
        plan = _plan(request, pk)
        serializer = SimulateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        records = serializer.validated_data.get("records")
        if records is not None:
            return Response(plan_records_simulate(plan=plan, records=records))
        if not request_may(request, *SIMULATE_BOOK_RULE):
            raise exceptions.PermissionDenied(
                "Simulating the whole book needs the 'write' scope or the 'manager' role."
            )
        job = services.simulation_start(plan=plan, actor_label=actor_from_request(request).label)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobMovesCsvView(APIView):
    """`GET /jobs/{id}/moves.csv`: the accounts a simulation job moves (territory or owner);
    409 for a job that is not a finished simulation."""

    @extend_schema(
        operation_id="jobs_moves_csv",
        responses={(200, "text/csv"): OpenApiResponse(description="the moves as CSV")},
    )
    def get(self, request, pk: int):
        job = get_object_or_404(Job, workspace=workspace_of(request), pk=pk)
        if job.handler != SIMULATE or job.status != "succeeded":
            raise ConflictError(
                f"moves are kept for a finished simulation; this is a {job.kind} job, {job.status}"
            )
        return csv_response(
            filename=f"simulation-{job.pk}-moves.csv",
            header=selectors.MOVE_COLUMNS,
            rows=selectors.simulation_moves(job=job),
        )


class PlanRebalanceView(APIView):
    """`GET /territory-plans/{id}/rebalance/`: suggested account moves between sibling
    territories that raise the balance score, and territories to split or merge. The
    active plan is read from the book; a draft from its latest simulation (409 without)."""

    @extend_schema(responses=RebalanceSerializer)
    def get(self, request, pk: int):
        return Response(selectors.rebalance_suggestions(plan=_plan(request, pk)))


class PlanRebalanceAcceptView(APIView):
    """`POST /territory-plans/{id}/rebalance/accept/ {"suggestions": [id, …]}`: locks the
    moved accounts to their new territory (active plan) or adds them to its named accounts
    (draft). 409 when a suggestion no longer applies."""

    access_rules = {"POST": ("write", "admin")}

    @extend_schema(
        request=RebalanceAcceptSerializer,
        responses=RebalanceAcceptedSerializer,
    )
    def post(self, request, pk: int):
        plan = _plan(request, pk)
        serializer = RebalanceAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.rebalance_accept(
            plan=plan,
            suggestion_ids=serializer.validated_data["suggestions"],
            actor=actor_from_request(request),
            reason=serializer.validated_data["reason"],
        )
        return Response(result)
