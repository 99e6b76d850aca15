from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AllocationAcceptView, SlaPolicyViewSet, TimeToAcceptView

router = SimpleRouter()
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")

urlpatterns = [
    *router.urls,
    path("allocations/<int:pk>/accept/", AllocationAcceptView.as_view(), name="allocation-accept"),
    path("analytics/time-to-accept/", TimeToAcceptView.as_view(), name="time-to-accept"),
]
