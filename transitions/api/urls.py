from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ActivationViewSet, PlanActivationViewSet, TransitionMoveViewSet

router = SimpleRouter()
router.register("activations", ActivationViewSet, basename="activation")
router.register("transition-moves", TransitionMoveViewSet, basename="transition-move")

urlpatterns = [
    path(
        "territory-plans/<int:pk>/activate/",
        PlanActivationViewSet.as_view({"post": "activate"}),
        name="territory-plan-activate",
    ),
    path(
        "territory-plans/<int:pk>/schedule/",
        PlanActivationViewSet.as_view({"delete": "unschedule"}),
        name="territory-plan-schedule",
    ),
    *router.urls,
]
