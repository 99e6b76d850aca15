from rest_framework import serializers

from revorg.api import WorkspaceScopedSerializer

from ..models import MemberRamp, Quota
from ..periods import EARLIEST, LATEST


class QuotaSerializer(WorkspaceScopedSerializer):
    """A quota is for exactly one territory or one member; one per owner and period."""

    class Meta:
        model = Quota
        fields = ["id", "territory", "member", "period_start", "period_end", "amount"]
        extra_kwargs = {
            "territory": {"required": False, "allow_null": True},
            "member": {"required": False, "allow_null": True},
            "amount": {"min_value": 0},
        }
        validators = []  # the owner-and-period uniqueness is checked in `validate`

    def validate(self, attrs):
        def value(name):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else None

        territory, member = value("territory"), value("member")
        if (territory is None) == (member is None):
            raise serializers.ValidationError(
                {"territory": ["give exactly one of territory and member"]}
            )
        start, end = value("period_start"), value("period_end")
        for name, day in (("period_start", start), ("period_end", end)):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise serializers.ValidationError({name: ["must be between 1900 and 2999"]})
        if start and end and end < start:
            raise serializers.ValidationError({"period_end": ["must not be before period_start"]})
        same = Quota.objects.filter(
            workspace=self.context["workspace"],
            territory=territory,
            member=member,
            period_start=start,
            period_end=end,
        )
        if self.instance is not None:
            same = same.exclude(pk=self.instance.pk)
        if same.exists():
            raise serializers.ValidationError(
                {"period_start": ["a quota for this owner and period exists; update it"]}
            )
        return attrs


class MemberRampSerializer(WorkspaceScopedSerializer):
    """A new rep's ramp: `month_percentages[n-1]` % of their quota in the n-th month from the
    month of `start_date`; 100 % after the ramp."""

    month_percentages = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=100),
        min_length=1,
        max_length=24,
        help_text="One percentage of quota per ramp month, e.g. [25, 50, 75].",
    )
    ramp_months = serializers.IntegerField(read_only=True)

    class Meta:
        model = MemberRamp
        fields = ["id", "member", "start_date", "month_percentages", "ramp_months"]
        validators = []

    def validate_member(self, member):
        taken = MemberRamp.objects.filter(member=member)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("this member has a ramp already; update it")
        return member


class TerritoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    level = serializers.IntegerField(help_text="0 for a top-level territory")


class MemberRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()


class _MetricsSerializer(serializers.Serializer):
    """Definitions of every figure: `analytics.selectors`' docstring (the API description)."""

    quota = serializers.FloatField(allow_null=True)
    won_amount = serializers.FloatField()
    attainment = serializers.FloatField(allow_null=True, help_text="percent of quota won")
    win_rate = serializers.FloatField(allow_null=True, help_text="percent of closed deals won")
    avg_deal_size = serializers.FloatField(allow_null=True)
    sales_cycle_days = serializers.FloatField(allow_null=True)
    open_pipeline = serializers.FloatField()
    pipeline_coverage = serializers.FloatField(
        allow_null=True, help_text="open pipeline / quota left to win"
    )
    velocity = serializers.FloatField(allow_null=True, help_text="money per day")
    accounts = serializers.IntegerField()
    allocations = serializers.IntegerField()
    time_to_accept_p50_minutes = serializers.FloatField(allow_null=True)
    won_deals = serializers.IntegerField()
    closed_deals = serializers.IntegerField()
    open_deals = serializers.IntegerField()
    overlay_credit_won = serializers.FloatField(
        help_text="territory: what its overlays are credited; member: overlay credit received"
    )
    overlay_credit_pipeline = serializers.FloatField()


class TerritoryPerformanceSerializer(_MetricsSerializer):
    territory = TerritoryRefSerializer()


class MemberPerformanceSerializer(_MetricsSerializer):
    member = MemberRefSerializer()


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class TerritoryAnalyticsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    plan = serializers.IntegerField(allow_null=True)
    results = TerritoryPerformanceSerializer(many=True)


class MemberAnalyticsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    plan = serializers.IntegerField(allow_null=True)
    results = MemberPerformanceSerializer(many=True)
