from rest_framework.routers import SimpleRouter

from .views import AllocationViewSet

router = SimpleRouter()
router.register("allocations", AllocationViewSet, basename="allocation")

urlpatterns = [*router.urls]
