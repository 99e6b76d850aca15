from rest_framework import serializers

from revorg.api import WorkspaceScopedSerializer

from .. import rules, selectors, services
from ..models import AccountLock, Territory, TerritoryPlan, TerritorySlot


class TerritoryPlanSerializer(WorkspaceScopedSerializer):
    class Meta:
        model = TerritoryPlan
        fields = ["id", "name", "status", "effective_at", "activated_at", "version", "created_at"]
        read_only_fields = ["status", "activated_at", "version", "created_at"]

    def create(self, validated_data):
        return services.plan_create(**validated_data)

    def update(self, instance, validated_data):
        return services.plan_update(plan=instance, **validated_data)


class SlotSerializer(WorkspaceScopedSerializer):
    class Meta:
        model = TerritorySlot
        fields = ["member", "role", "weight", "position", "credit_percent"]
        extra_kwargs = {
            "position": {"required": False},
            "weight": {"min_value": 1},
            "credit_percent": {
                "required": False,
                "min_value": 0,
                "max_value": 100,
                "help_text": "An overlay's split credit: this percentage of the territory's "
                "won and pipeline amounts (0 to 100; primaries and backups carry 0).",
            },
        }

    def validate(self, attrs):
        if attrs.get("credit_percent") and attrs.get("role", "primary") != "overlay":
            raise serializers.ValidationError(
                {"credit_percent": ["only an overlay slot carries split credit"]}
            )
        return attrs


class TerritorySerializer(WorkspaceScopedSerializer):
    slots = SlotSerializer(many=True, required=False)
    named_accounts = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=50_000
    )
    rule = serializers.JSONField(required=False, allow_null=True)
    member_rule = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = Territory
        fields = [
            "id",
            "plan",
            "name",
            "description",
            "kind",
            "parent",
            "priority",
            "rule",
            "named_accounts",
            "member_rule",
            "distribution",
            "fallback_member",
            "fallback_territory",
            "is_active",
            "slots",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "plan": {"required": False},
            "priority": {"min_value": -1_000_000, "max_value": 1_000_000},
        }

    def validate_rule(self, value):
        if errors := rules.validate_rule(value):
            raise serializers.ValidationError(errors)
        return value

    def validate_member_rule(self, value):
        if errors := rules.validate_rule(value, allow_member_refs=True):
            raise serializers.ValidationError(errors)
        return value

    def validate_slots(self, slots):
        seen = set()
        for index, slot in enumerate(slots):
            if "member" not in slot:  # a PATCH makes nested fields optional: not this one
                raise serializers.ValidationError(f"slot {index} needs a member")
            key = (slot["member"].pk, slot.get("role", "primary"))
            if key in seen:
                raise serializers.ValidationError(f"member {key[0]} appears twice as {key[1]}")
            seen.add(key)
        return slots

    def create(self, validated_data):
        slots = validated_data.pop("slots", None)
        return services.territory_create(slots=slots, **validated_data)

    def update(self, instance, validated_data):
        slots = validated_data.pop("slots", None)
        return services.territory_update(territory=instance, slots=slots, **validated_data)


class AccountLockSerializer(WorkspaceScopedSerializer):
    class Meta:
        model = AccountLock
        fields = ["id", "account", "territory", "reason", "created_at"]
        read_only_fields = ["created_at"]

    def validate_account(self, value):
        from ..matching import normalize_account

        account = normalize_account(value)
        if not account:
            raise serializers.ValidationError("must be a domain or a CRM account id")
        return account

    def validate(self, attrs):
        workspace = self.context["workspace"]
        account = attrs.get("account", getattr(self.instance, "account", None))
        clash = AccountLock.objects.filter(workspace=workspace, account=account)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"account": ["this account is already locked"]})
        return attrs

    def create(self, validated_data):
        return services.lock_create(**validated_data)

    def update(self, instance, validated_data):
        return services.lock_update(lock=instance, **validated_data)


class MatchRequestSerializer(serializers.Serializer):
    record = serializers.JSONField(help_text='{"type": "lead", "fields": {...}}')
    plan = serializers.IntegerField(required=False, help_text="default: the active plan")

    def validate_record(self, value):
        if not isinstance(value, dict) or not isinstance(value.get("fields"), dict):
            raise serializers.ValidationError('must be an object with "fields": {...}')
        _raise_field_errors(rules.record_fields_errors(value["fields"]))
        return value

    def validate_plan(self, value):
        plan = selectors.plan_list(workspace=self.context["workspace"]).filter(pk=value).first()
        if plan is None:
            raise serializers.ValidationError("no such plan")
        return plan


class SimulateRequestSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=10_000)

    def validate_records(self, records):
        for position, fields in enumerate(records):
            _raise_field_errors(rules.record_fields_errors(fields, f"records.{position}"))
        return records


def _raise_field_errors(errors: list[dict]) -> None:
    if errors:
        raise serializers.ValidationError([f"{e['path']}: {e['message']}" for e in errors])


def resolution_payload(resolution) -> dict:
    def brief(territory):
        return {"id": territory.id, "name": territory.name, "priority": territory.priority}

    return {
        "plan": resolution.plan_id,
        "step": resolution.step,
        "winner": brief(resolution.winner) if resolution.winner else None,
        "candidates": [brief(t) for t in resolution.candidates],
        "conflicts": [brief(t) for t in resolution.conflicts],
        "decision": list(resolution.trace),
    }


# --- what the API sends: the schema's description of these answers ----------------------------


class TerritoryBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    priority = serializers.IntegerField()


class ResolutionSerializer(serializers.Serializer):
    """`resolution_payload`: the winner, every candidate, the conflicts and the trace."""

    plan = serializers.IntegerField()
    step = serializers.CharField(help_text="lock, named_account, territory or none")
    winner = TerritoryBriefSerializer(allow_null=True)
    candidates = TerritoryBriefSerializer(many=True)
    conflicts = TerritoryBriefSerializer(many=True)
    decision = serializers.ListField(child=serializers.DictField())


class SimulatedTerritorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    records = serializers.IntegerField()


class SimulationSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    records = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    territories = SimulatedTerritorySerializer(many=True)


class CloneRequestSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
