from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allocation.models import Allocation

from ..models import Account, Opportunity


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OverlaySerializer(RefSerializer):
    until = serializers.DateTimeField(allow_null=True)


def _ref(obj):
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


class AccountSerializer(serializers.ModelSerializer):
    territory = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    overlays = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "crm_provider",
            "crm_id",
            "name",
            "domain",
            "fields",
            "territory",
            "owner",
            "crm_owner_id",
            "status",
            "overlays",
            "assigned_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_territory(self, account):
        return _ref(account.territory)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_owner(self, account):
        return _ref(account.owner)

    @extend_schema_field(OverlaySerializer(many=True))
    def get_overlays(self, account) -> list:
        return self.context.get("overlays", {}).get(account.pk, [])


class HistoryEntrySerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    territory = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Allocation
        fields = [
            "id",
            "status",
            "state",
            "owner",
            "territory",
            "decision",
            "actor_label",
            "reason",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_owner(self, entry):
        return _ref(entry.owner)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_territory(self, entry):
        return _ref(entry.territory)

    def get_state(self, entry) -> str:
        return "current" if entry.is_current else "superseded"


class AccountDetailSerializer(AccountSerializer):
    history = serializers.SerializerMethodField()

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(HistoryEntrySerializer(many=True))
    def get_history(self, account) -> list:
        return HistoryEntrySerializer(self.context.get("history", []), many=True).data


class OpportunitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = [
            "id",
            "crm_id",
            "account",
            "name",
            "owner",
            "stage",
            "probability",
            "amount",
            "close_date",
            "is_closed",
            "is_won",
            "created_date",
            "closed_date",
        ]
        read_only_fields = fields


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()


class VacantTerritorySerializer(RefSerializer):
    accounts = serializers.IntegerField()


class ConflictPairSerializer(serializers.Serializer):
    territory = RefSerializer()
    runner_up = RefSerializer()
    accounts = serializers.IntegerField()


class WhiteSpaceSerializer(serializers.Serializer):
    country = serializers.CharField()
    state = serializers.CharField()
    industry = serializers.CharField()
    size_band = serializers.CharField()
    accounts = serializers.IntegerField()
    open_pipeline = serializers.DecimalField(max_digits=20, decimal_places=2)


class CoverageSerializer(serializers.Serializer):
    plan = RefSerializer(allow_null=True)
    accounts = serializers.IntegerField()
    orphaned = serializers.IntegerField()
    vacant_territories = VacantTerritorySerializer(many=True)
    conflicts = serializers.IntegerField()
    conflict_pairs = ConflictPairSerializer(many=True)
    owner_mismatches = serializers.IntegerField()
    white_space = WhiteSpaceSerializer(many=True)
