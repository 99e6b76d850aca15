from rest_framework import serializers

from allocation.models import RecordType
from revorg.api import WorkspaceScopedSerializer

from ..models import SlaPolicy

MAX_MINUTES = 60 * 24 * 365


class SlaPolicySerializer(WorkspaceScopedSerializer):
    respond_within_minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES)
    remind_at_percent = serializers.IntegerField(min_value=1, max_value=99, default=75)
    max_breaches = serializers.IntegerField(
        min_value=0,
        max_value=20,
        default=2,
        help_text="breach actions a record may get; the next breach sends it to the "
        "unassigned queue and alerts the admins",
    )
    record_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RecordType.choices),
        required=False,
        allow_empty=False,
        max_length=4,
        help_text="the allocations it covers (default lead, contact)",
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "territory",
            "respond_within_minutes",
            "remind_at_percent",
            "on_breach",
            "max_breaches",
            "record_types",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the unique (workspace, territory) is checked below, naming the field

    def validate(self, attrs):
        workspace = self.context.get("workspace")
        territory = attrs.get("territory", getattr(self.instance, "territory", None))
        clash = SlaPolicy.objects.filter(workspace=workspace, territory=territory)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            where = "this territory" if territory else "the workspace (no territory)"
            raise serializers.ValidationError(
                {"territory": [f"{where} already has a policy; edit that one."]}
            )
        if "record_types" in attrs:
            attrs["record_types"] = list(dict.fromkeys(attrs["record_types"]))
        return attrs


class TimeToAcceptRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the member or territory")
    name = serializers.CharField()
    accepted = serializers.IntegerField()
    p50_minutes = serializers.FloatField()
    p90_minutes = serializers.FloatField()


class TimeToAcceptQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=["member", "territory"], default="member")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
