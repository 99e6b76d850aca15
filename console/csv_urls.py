"""The browser's CSV routes: each list page's export and each import page, composed from the
apps' `csv_io` modules and the generic pages of `revorg.csv_views`; `console.urls` includes
them."""

from django.urls import path

from allocation import csv_io as allocation_csv
from allocation.filtersets import AllocationFilterSet
from allocation.models import Allocation
from capacities import csv_io as capacity_csv
from capacities.filtersets import CapacityFilterSet
from capacities.models import Capacity
from members import csv_io as member_csv
from members.filtersets import MemberFilterSet
from members.models import Member
from revorg.csv_views import csv_export_page, csv_import_page
from territories import csv_io as territory_csv
from territories.filtersets import TerritoryFilterSet
from territories.models import Territory

urlpatterns = [
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
    path(
        "allocations/export/",
        csv_export_page,
        {
            "model": Allocation,
            "filterset_class": AllocationFilterSet,
            "header": allocation_csv.EXPORT_COLUMNS,
            "rows": allocation_csv.allocation_export_rows,
            "filename": "allocations.csv",
            "rename": {"owner": "member", "current": "is_current"},
            "values": {"current": {"yes": "true"}},
        },
        name="allocation-export",
    ),
]
