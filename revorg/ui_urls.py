from django.urls import path

from allocation import views as allocation_views
from members import views as member_views
from territories import views as territory_views

from . import views

app_name = "ui"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("workspace/switch/", views.workspace_switch, name="workspace-switch"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("members/", member_views.member_index, name="members"),
    path("members/<int:pk>/", member_views.member_detail, name="member-detail"),
    path("members/<int:pk>/absences/", member_views.absence_add, name="absence-add"),
    path(
        "members/<int:pk>/absences/<int:absence_pk>/delete/",
        member_views.absence_delete,
        name="absence-delete",
    ),
    path("territories/", territory_views.territory_index, name="territories"),
    path("territories/new/", territory_views.territory_builder, name="territory-new"),
    path("territories/<int:pk>/", territory_views.territory_builder, name="territory-edit"),
    path(
        "territories/plans/<int:pk>/activate/", territory_views.plan_activate, name="plan-activate"
    ),
    path("territories/plans/<int:pk>/clone/", territory_views.plan_clone, name="plan-clone"),
    path("allocations/", allocation_views.allocation_index, name="allocations"),
    path("allocations/<int:pk>/", allocation_views.allocation_detail, name="allocation-detail"),
    path(
        "allocations/<int:pk>/writeback/retry/",
        allocation_views.writeback_retry,
        name="writeback-retry",
    ),
]
