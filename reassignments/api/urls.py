from rest_framework.routers import SimpleRouter

from .views import ReassignmentRequestViewSet

router = SimpleRouter()
router.register(
    "reassignment-requests", ReassignmentRequestViewSet, basename="reassignment-request"
)

urlpatterns = [*router.urls]
