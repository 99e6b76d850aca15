import django_filters

from .models import SyncRun


class SyncRunFilterSet(django_filters.FilterSet):
    connection = django_filters.NumberFilter(field_name="connection_id")

    class Meta:
        model = SyncRun
        fields = ["connection", "kind", "status"]
