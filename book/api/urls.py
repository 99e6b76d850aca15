from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AccountViewSet, CoverageView, OpportunityViewSet, PlanReevaluateView

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("opportunities", OpportunityViewSet, basename="opportunity")

urlpatterns = [
    *router.urls,
    path("coverage/", CoverageView.as_view(), name="coverage"),
    path(
        "territory-plans/<int:pk>/reevaluate/",
        PlanReevaluateView.as_view(),
        name="territory-plan-reevaluate",
    ),
]
