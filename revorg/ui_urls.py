from django.urls import path

from allocation import csv_io as allocation_csv
from allocation import views as allocation_views
from allocation.filtersets import AllocationFilterSet
from allocation.models import Allocation
from capacities import csv_io as capacity_csv
from capacities import views as capacity_views
from capacities.filtersets import CapacityFilterSet
from capacities.models import Capacity
from crm_sync import views as crm_views
from members import csv_io as member_csv
from members import views as member_views
from members.filtersets import MemberFilterSet
from members.models import Member
from territories import csv_io as territory_csv
from territories import views as territory_views
from territories.filtersets import TerritoryFilterSet
from territories.models import Territory

from . import views
from .csv_views import csv_export_page, csv_import_page

app_name = "ui"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("workspace/switch/", views.workspace_switch, name="workspace-switch"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("members/", member_views.member_index, name="members"),
    path(
        "members/import/",
        csv_import_page,
        {
            "importer": member_csv.member_import,
            "title": "Import members",
            "back": "ui:members",
            "help_text": member_csv.__doc__,
        },
        name="member-import",
    ),
    path(
        "members/export/",
        csv_export_page,
        {
            "model": Member,
            "filterset_class": MemberFilterSet,
            "header": member_csv.EXPORT_COLUMNS,
            "rows": member_csv.member_export_rows,
            "filename": "members.csv",
            "rename": {"q": "search", "active": "is_active"},
            "values": {"active": {"yes": "true", "no": "false"}},
        },
        name="member-export",
    ),
    path("members/<int:pk>/", member_views.member_detail, name="member-detail"),
    path("members/<int:pk>/absences/", member_views.absence_add, name="absence-add"),
    path(
        "members/<int:pk>/absences/<int:absence_pk>/delete/",
        member_views.absence_delete,
        name="absence-delete",
    ),
    path("territories/", territory_views.territory_index, name="territories"),
    path(
        "territories/import/",
        csv_import_page,
        {
            "importer": territory_csv.territory_import,
            "title": "Import territories",
            "back": "ui:territories",
            "help_text": territory_csv.__doc__,
            "uses_plan": True,
        },
        name="territory-import",
    ),
    path(
        "territories/named-accounts/import/",
        csv_import_page,
        {
            "importer": territory_csv.named_account_import,
            "title": "Import named accounts",
            "back": "ui:territories",
            "help_text": territory_csv.__doc__,
            "uses_plan": True,
        },
        name="named-account-import",
    ),
    path(
        "territories/export/",
        csv_export_page,
        {
            "model": Territory,
            "filterset_class": TerritoryFilterSet,
            "header": territory_csv.EXPORT_COLUMNS,
            "rows": territory_csv.territory_export_rows,
            "filename": "territories.csv",
            "default_filters": territory_csv.export_default_filters,
        },
        name="territory-export",
    ),
    path("territories/new/", territory_views.territory_builder, name="territory-new"),
    path("territories/<int:pk>/", territory_views.territory_builder, name="territory-edit"),
    path(
        "territories/plans/<int:pk>/activate/", territory_views.plan_activate, name="plan-activate"
    ),
    path("territories/plans/<int:pk>/clone/", territory_views.plan_clone, name="plan-clone"),
    path("capacities/", capacity_views.capacity_index, name="capacities"),
    path(
        "capacities/export/",
        csv_export_page,
        {
            "model": Capacity,
            "filterset_class": CapacityFilterSet,
            "header": capacity_csv.EXPORT_COLUMNS,
            "rows": capacity_csv.capacity_export_rows,
            "filename": "capacities.csv",
            "rename": {"q": "search"},
        },
        name="capacity-export",
    ),
    path("capacities/new/", capacity_views.capacity_save, name="capacity-new"),
    path(
        "capacities/member-options/",
        capacity_views.capacity_member_options,
        name="capacity-member-options",
    ),
    path("capacities/<int:pk>/", capacity_views.capacity_save, name="capacity-edit"),
    path("capacities/<int:pk>/delete/", capacity_views.capacity_delete, name="capacity-delete"),
    path("crm/", crm_views.crm_index, name="crm"),
    path("crm/<int:pk>/test/", crm_views.crm_test, name="crm-test"),
    path("crm/<int:pk>/sync/", crm_views.crm_sync_now, name="crm-sync"),
    path("crm/<int:pk>/delete/", crm_views.crm_delete, name="crm-delete"),
    path("crm/runs/<int:pk>/", crm_views.sync_run_detail, name="sync-run"),
    path("allocations/", allocation_views.allocation_index, name="allocations"),
    path(
        "allocations/export/",
        csv_export_page,
        {
            "model": Allocation,
            "filterset_class": AllocationFilterSet,
            "header": allocation_csv.EXPORT_COLUMNS,
            "rows": allocation_csv.allocation_export_rows,
            "filename": "allocations.csv",
            "rename": {"owner": "member"},
        },
        name="allocation-export",
    ),
    path("allocations/<int:pk>/", allocation_views.allocation_detail, name="allocation-detail"),
    path(
        "allocations/<int:pk>/writeback/retry/",
        allocation_views.writeback_retry,
        name="writeback-retry",
    ),
]
