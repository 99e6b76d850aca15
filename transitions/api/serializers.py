from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from book.models import Opportunity
from jobs.api.serializers import JobSerializer
from territories.api.serializers import TerritoryPlanSerializer

from ..models import Activation, OpenDealPolicy, TransitionMove


class _StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know (400 naming each), so a typo is never silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)


class StageThresholdSerializer(_StrictSerializer):
    """Exactly one of `probability` (0–100) or `stage` (a stage name of the book)."""

    probability = serializers.IntegerField(required=False, min_value=0, max_value=100)
    stage = serializers.CharField(required=False, max_length=100)

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError("give exactly one of probability or stage")
        return attrs


class TransitionSerializer(_StrictSerializer):
    open_deals = serializers.ChoiceField(
        choices=OpenDealPolicy.choices, default=OpenDealPolicy.FOLLOW_REP
    )
    stage_threshold = StageThresholdSerializer(required=False, allow_null=True)
    overlap_days = serializers.IntegerField(min_value=0, max_value=365, default=0)
    notify = serializers.BooleanField(default=True)

    def validate(self, attrs):
        threshold = attrs.get("stage_threshold")
        if attrs["open_deals"] == OpenDealPolicy.STAGE_BASED:
            if not threshold:
                raise serializers.ValidationError(
                    {"stage_threshold": ["required when open_deals is stage_based"]}
                )
            if "stage" in threshold:
                workspace = self.context["workspace"]
                stages = Opportunity.objects.filter(workspace=workspace).exclude(stage="")
                if not stages.filter(stage__iexact=threshold["stage"].strip()).exists():
                    known = sorted(set(stages.values_list("stage", flat=True)[:1000]))[:20]
                    raise serializers.ValidationError(
                        {
                            "stage_threshold": {
                                "stage": [
                                    f"no deal of the book is at stage {threshold['stage']!r}; "
                                    f"known stages: {', '.join(known) or 'none'}"
                                ]
                            }
                        }
                    )
                threshold["stage"] = threshold["stage"].strip()
        elif threshold:
            raise serializers.ValidationError(
                {"stage_threshold": ["only for open_deals stage_based"]}
            )
        return attrs


class ActivateRequestSerializer(_StrictSerializer):
    effective_at = serializers.DateTimeField(required=False, allow_null=True)
    transition = TransitionSerializer(required=False)


class PlanRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TransitionOutSerializer(serializers.Serializer):
    open_deals = serializers.CharField()
    stage_threshold = serializers.DictField(allow_null=True)
    overlap_days = serializers.IntegerField()
    notify = serializers.BooleanField()


class ActivationSerializer(serializers.ModelSerializer):
    plan = serializers.SerializerMethodField()
    previous_plan = serializers.SerializerMethodField()
    transition = TransitionOutSerializer(read_only=True)
    job = JobSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Activation
        fields = [
            "id",
            "plan",
            "previous_plan",
            "status",
            "effective_at",
            "transition",
            "requested_by",
            "requested_at",
            "activated_by",
            "activated_at",
            "counts",
            "digests_sent",
            "job",
        ]
        read_only_fields = fields

    @extend_schema_field(PlanRefSerializer)
    def get_plan(self, activation):
        return {"id": activation.plan_id, "name": activation.plan.name}

    @extend_schema_field(PlanRefSerializer(allow_null=True))
    def get_previous_plan(self, activation):
        plan = activation.previous_plan
        return {"id": plan.pk, "name": plan.name} if plan else None


class PlanActivationSerializer(TerritoryPlanSerializer):
    """The plan as it is after the request, with the activation (and its job: null while
    the plan is scheduled; the job is created when the time comes)."""

    activation = ActivationSerializer(read_only=True, allow_null=True)

    class Meta(TerritoryPlanSerializer.Meta):
        fields = [*TerritoryPlanSerializer.Meta.fields, "activation"]


class TransitionMemberRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TransitionMoveSerializer(serializers.ModelSerializer):
    opportunity = serializers.SerializerMethodField()
    from_member = serializers.SerializerMethodField()
    to_member = serializers.SerializerMethodField()

    class Meta:
        model = TransitionMove
        fields = [
            "id",
            "activation",
            "opportunity",
            "account",
            "from_member",
            "to_member",
            "status",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TransitionMemberRefSerializer)
    def get_opportunity(self, move):
        return {"id": move.opportunity_id, "name": move.opportunity.name}

    @extend_schema_field(TransitionMemberRefSerializer(allow_null=True))
    def get_from_member(self, move):
        m = move.from_member
        return {"id": m.pk, "name": m.name} if m else None

    @extend_schema_field(TransitionMemberRefSerializer(allow_null=True))
    def get_to_member(self, move):
        m = move.to_member
        return {"id": m.pk, "name": m.name} if m else None
