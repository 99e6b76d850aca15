from rest_framework.routers import SimpleRouter

from .views import AccountLockViewSet, TerritoryPlanViewSet, TerritoryViewSet

router = SimpleRouter()
router.register("territory-plans", TerritoryPlanViewSet, basename="territory-plan")
router.register("territories", TerritoryViewSet, basename="territory")
router.register("account-locks", AccountLockViewSet, basename="account-lock")

urlpatterns = [*router.urls]
