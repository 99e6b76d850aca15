from rest_framework.decorators import action

from revorg.api import WorkspaceScopedViewSet
from revorg.csv_api import export_schema
from revorg.csv_io import csv_response

from .. import csv_io
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

    @export_schema(description="Capacities with their usage now as CSV, with the list's filters.")
    @action(detail=False, methods=["get"], url_path="export")
    def export_csv(self, request):
        return csv_response(
            filename="capacities.csv",
            header=csv_io.EXPORT_COLUMNS,
            rows=csv_io.capacity_export_rows(queryset=self.filter_queryset(self.get_queryset())),
        )


class PipelineSnapshotViewSet(WorkspaceScopedViewSet):
    queryset = PipelineSnapshot.objects.all()
    serializer_class = PipelineSnapshotSerializer
    filterset_class = PipelineSnapshotFilterSet
