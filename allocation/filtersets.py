import django_filters

from crm_sync.models import WritebackStatus

from .models import Allocation


class AllocationFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="owner_id")
    territory = django_filters.NumberFilter(field_name="territory_id")
    writeback = django_filters.ChoiceFilter(
        field_name="writeback__status", choices=WritebackStatus.choices
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Allocation
        fields = ["status", "record_type", "record_id", "play_run_id"]
