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
    # `status=unassigned&is_current=true` is the unassigned queue.
    # A choice, not a BooleanFilter: that one ignores a value it cannot read, this one is a 400.
    is_current = django_filters.TypedChoiceFilter(
        field_name="is_current",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text="true: only each record's current entry",
    )

    class Meta:
        model = Allocation
        fields = ["status", "record_type", "record_id", "play_run_id"]
