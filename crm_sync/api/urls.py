from rest_framework.routers import SimpleRouter

from .views import CrmConnectionViewSet, SyncRunViewSet

router = SimpleRouter()
router.register("crm-connections", CrmConnectionViewSet, basename="crm-connection")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = [*router.urls]
