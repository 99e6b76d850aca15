import django_filters
from django.db.models import Q

from .models import Account, AccountStatus, Opportunity


class AccountFilterSet(django_filters.FilterSet):
    territory = django_filters.NumberFilter(field_name="territory_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices)
    country = django_filters.CharFilter(field_name="fields__country", lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = Account
        fields = ["territory", "owner", "status", "country", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(domain__icontains=value) | Q(crm_id__iexact=value)
        )


class OpportunityFilterSet(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    owner = django_filters.NumberFilter(field_name="owner_id")

    class Meta:
        model = Opportunity
        fields = ["account", "owner", "is_closed"]
