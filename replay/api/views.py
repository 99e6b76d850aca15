from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import selectors as job_selectors
from jobs.api.serializers import JobSerializer
from jobs.models import JobKind
from revorg.api import workspace_of
from revorg.csv_api import export_schema
from revorg.csv_io import csv_response
from revorg.errors import ApplicationError
from revorg.services import actor_from_request
from territories.models import TerritoryPlan

from .. import selectors, services
from .serializers import ReplayRequestSerializer

REPLAY_RULE = ("write", "manager")


class PlanReplayView(APIView):
    """`POST /territory-plans/{id}/replay/ {"since", "until"}`: 202 with the replay job."""

    access_rules = {"POST": REPLAY_RULE}

    @extend_schema(request=ReplayRequestSerializer, responses={202: JobSerializer})
    def post(self, request, pk: int):
        workspace = workspace_of(request)
        plan = get_object_or_404(TerritoryPlan, workspace=workspace, pk=pk)
        serializer = ReplayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.replay_start(
            plan=plan,
            since=serializer.validated_data["since"],
            until=serializer.validated_data["until"],
            actor_label=actor_from_request(request).label,
        )
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ReplayMovesCsvView(APIView):
    """`GET /jobs/{id}/replay-moves.csv`: the history rows a replay sent elsewhere."""

    @extend_schema(operation_id="jobs_replay_moves_csv")
    @export_schema(
        description="The history rows the replay would have sent to another owner.",
        filters=False,
    )
    def get(self, request, pk: int):
        job = get_object_or_404(job_selectors.job_list(workspace=workspace_of(request)), pk=pk)
        if job.kind != JobKind.REPLAY:
            raise ApplicationError(f"job {job.pk} is a {job.kind} job, not a replay")
        return csv_response(
            filename=f"replay-{job.pk}-moves.csv",
            header=selectors.MOVES_CSV_HEADER,
            rows=selectors.replay_moves_csv_rows(job=job),
        )
