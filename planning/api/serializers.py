from rest_framework import serializers

from territories import rules


class SimulateRequestSerializer(serializers.Serializer):
    """With `records`: the quick synchronous count per territory (200). Without: a job
    against the whole book (202)."""

    records = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=10_000, required=False
    )

    def validate_records(self, records):
        errors = []
        for position, fields in enumerate(records):
            errors += rules.record_fields_errors(fields, f"records.{position}")
        if errors:
            raise serializers.ValidationError([f"{e['path']}: {e['message']}" for e in errors])
        return records


class RebalanceAcceptSerializer(serializers.Serializer):
    suggestions = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=1, max_length=500
    )
    reason = serializers.CharField(max_length=400, required=False, default="rebalancing")


class BalanceChangeSerializer(serializers.Serializer):
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)


class BalanceEffectSerializer(serializers.Serializer):
    accounts = BalanceChangeSerializer()
    pipeline = BalanceChangeSerializer()


class RebalanceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MoveSuggestionSerializer(serializers.Serializer):
    id = serializers.CharField()
    from_territory = RebalanceRefSerializer()
    from_member = RebalanceRefSerializer()
    to_territory = RebalanceRefSerializer()
    to_members = RebalanceRefSerializer(many=True)
    accounts = serializers.ListField(child=serializers.IntegerField())
    open_pipeline = serializers.CharField()
    effect = BalanceEffectSerializer()


class SplitSerializer(serializers.Serializer):
    territory = RebalanceRefSerializer()
    accounts = serializers.IntegerField()
    open_pipeline = serializers.CharField()
    reason = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    groups = serializers.ListField(child=serializers.DictField())


class MergeSerializer(serializers.Serializer):
    territory = RebalanceRefSerializer()
    accounts = serializers.IntegerField()
    open_pipeline = serializers.CharField()
    reason = serializers.CharField()
    merge_with = RebalanceRefSerializer(allow_null=True)


class RebalanceSerializer(serializers.Serializer):
    plan = RebalanceRefSerializer()
    source = serializers.CharField()
    balance = BalanceEffectSerializer()
    moves = MoveSuggestionSerializer(many=True)
    splits = SplitSerializer(many=True)
    merges = MergeSerializer(many=True)


class RebalanceAcceptedSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    accepted = serializers.ListField(child=serializers.CharField())
    locks = serializers.IntegerField()
    named_accounts = serializers.IntegerField()
