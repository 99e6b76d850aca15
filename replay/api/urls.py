from django.urls import path

from .views import PlanReplayView, ReplayMovesCsvView

urlpatterns = [
    path(
        "territory-plans/<int:pk>/replay/", PlanReplayView.as_view(), name="territory-plan-replay"
    ),
    path("jobs/<int:pk>/replay-moves.csv", ReplayMovesCsvView.as_view(), name="job-replay-moves"),
]
