from rest_framework.routers import SimpleRouter

from .views import CapacityViewSet, PipelineSnapshotViewSet

router = SimpleRouter()
router.register("capacities", CapacityViewSet, basename="capacity")
router.register("pipeline-snapshots", PipelineSnapshotViewSet, basename="pipeline-snapshot")

urlpatterns = [*router.urls]
