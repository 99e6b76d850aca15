from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import MemberAnalyticsView, MemberRampViewSet, QuotaViewSet, TerritoryAnalyticsView

router = SimpleRouter()
router.register("quotas", QuotaViewSet, basename="quota")
router.register("member-ramps", MemberRampViewSet, basename="member-ramp")

urlpatterns = [
    *router.urls,
    path("analytics/territories/", TerritoryAnalyticsView.as_view(), name="analytics-territories"),
    path("analytics/members/", MemberAnalyticsView.as_view(), name="analytics-members"),
]
