import django_filters

from .models import Capacity, PipelineSnapshot


class CapacityFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="member_id")
    search = django_filters.CharFilter(
        field_name="member__name", lookup_expr="icontains", label="Member name"
    )

    class Meta:
        model = Capacity
        fields = ["member", "period", "source"]


class PipelineSnapshotFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="member_id")

    class Meta:
        model = PipelineSnapshot
        fields = ["member"]
