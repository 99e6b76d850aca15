from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from revorg.api import WorkspaceScopedGenericViewSet
from revorg.services import actor_from_request

from .. import services
from ..filtersets import JobFilterSet
from ..models import Job
from .serializers import JobSerializer


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceScopedGenericViewSet):
    """Long operations (imports, re-evaluations, …) with their progress; poll a job's detail."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    lookup_value_regex = "[0-9]+"
    access_rules = {"cancel": ("write", "manager")}

    @extend_schema(exclude=True)  # answers 405: no operation a client can use
    def _read_only(self, request, *args, **kwargs):
        self.get_object()  # another workspace's job is a 404 first
        raise MethodNotAllowed(request.method, detail="Jobs are read-only; cancel with POST.")

    update = partial_update = destroy = _read_only

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stops a queued or running job (409 when it already finished)."""
        job = services.job_cancel(job=self.get_object(), actor=actor_from_request(request))
        return Response(JobSerializer(job).data)
