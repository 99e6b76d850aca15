from revorg.api import WorkspaceScopedViewSet

from ..filtersets import CapacityFilterSet, PipelineSnapshotFilterSet
from ..models import Capacity, PipelineSnapshot
from .serializers import CapacitySerializer, PipelineSnapshotSerializer

MANAGER_WRITES = {
    action: ("write", "manager") for action in ("create", "update", "partial_update", "destroy")
}


class CapacityViewSet(WorkspaceScopedViewSet):
    """Limits per member; managers edit them in the UI, keys need the `write` scope."""

    queryset = Capacity.objects.select_related("member", "workspace")
    serializer_class = CapacitySerializer
    filterset_class = CapacityFilterSet
    access_rules = MANAGER_WRITES


class PipelineSnapshotViewSet(WorkspaceScopedViewSet):
    queryset = PipelineSnapshot.objects.all()
    serializer_class = PipelineSnapshotSerializer
    filterset_class = PipelineSnapshotFilterSet
