import django_filters
from django.db.models import Q

from .models import Member


class MemberFilterSet(django_filters.FilterSet):
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search", label="Name, email or title")
    manager = django_filters.NumberFilter(field_name="manager_id")
    role = django_filters.CharFilter(field_name="role", lookup_expr="iexact")

    class Meta:
        model = Member
        fields = ["is_active", "email", "crm_provider", "manager", "role"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(title__icontains=value)
        )
