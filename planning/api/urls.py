from django.urls import path

from .views import JobMovesCsvView, PlanRebalanceAcceptView, PlanRebalanceView, PlanSimulateView

urlpatterns = [
    path(
        "territory-plans/<int:pk>/simulate/",
        PlanSimulateView.as_view(),
        name="territory-plan-simulate",
    ),
    path(
        "territory-plans/<int:pk>/rebalance/",
        PlanRebalanceView.as_view(),
        name="territory-plan-rebalance",
    ),
    path(
        "territory-plans/<int:pk>/rebalance/accept/",
        PlanRebalanceAcceptView.as_view(),
        name="territory-plan-rebalance-accept",
    ),
    path("jobs/<int:pk>/moves.csv", JobMovesCsvView.as_view(), name="job-moves-csv"),
]
