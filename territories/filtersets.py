import django_filters
from django.db.models import Q

from .models import AccountLock, Territory


class TerritoryFilterSet(django_filters.FilterSet):
    plan = django_filters.NumberFilter(field_name="plan_id")
    parent = django_filters.NumberFilter(field_name="parent_id")
    search = django_filters.CharFilter(method="filter_search", label="Name or description")

    class Meta:
        model = Territory
        fields = ["plan", "kind", "parent", "is_active"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class AccountLockFilterSet(django_filters.FilterSet):
    territory = django_filters.NumberFilter(field_name="territory_id")
    account = django_filters.CharFilter(field_name="account", lookup_expr="icontains")

    class Meta:
        model = AccountLock
        fields = ["territory", "account"]
