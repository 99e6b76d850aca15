import django_filters

from .models import MemberRamp, Quota


class QuotaFilterSet(django_filters.FilterSet):
    territory = django_filters.NumberFilter(field_name="territory_id")
    member = django_filters.NumberFilter(field_name="member_id")
    covers = django_filters.DateFilter(
        method="filter_covers", label="Quotas whose period contains this date"
    )

    class Meta:
        model = Quota
        fields = ["territory", "member"]

    def filter_covers(self, queryset, name, value):
        return queryset.filter(period_start__lte=value, period_end__gte=value)


class MemberRampFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="member_id")

    class Meta:
        model = MemberRamp
        fields = ["member"]
