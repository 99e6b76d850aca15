from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allocation.api.serializers import MAX_INT
from allocation.models import Allocation
from book.models import Account
from members.models import Member
from revorg.api import WorkspaceScopedSerializer
from revorg.scope import row_scope_for_request, rows_in_scope
from territories.models import Territory

from ..models import OpenDeals, ReassignmentApproval, ReassignmentRequest

MAX_IDS = 10_000


class ImpactSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    open_deals = serializers.IntegerField()
    open_pipeline = serializers.FloatField()
    pending_allocations = serializers.IntegerField()


class ApprovalSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver_label")

    class Meta:
        model = ReassignmentApproval
        fields = ["approver", "decision", "comment", "decided_at", "settles"]


class ReassignmentRequestSerializer(WorkspaceScopedSerializer):
    """A request as read; created with `ReassignmentRequestCreateSerializer`."""

    accounts = serializers.SerializerMethodField()
    allocations = serializers.SerializerMethodField()
    impact = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    requested_by = serializers.CharField(source="requested_by_label", read_only=True)
    items = serializers.SerializerMethodField()

    class Meta:
        model = ReassignmentRequest
        fields = [
            "id",
            "status",
            "accounts",
            "allocations",
            "from_member",
            "territory",
            "to_member",
            "reason",
            "effective_at",
            "open_deals",
            "impact",
            "required_approvals",
            "approvals",
            "requested_by",
            "created_at",
            "decided_at",
            "executed_at",
            "result",
            "items",
        ]
        read_only_fields = fields

    @extend_schema_field(ImpactSerializer)
    def get_impact(self, obj) -> dict:
        impact = obj.impact or {}
        return {
            "accounts": impact.get("accounts", 0),
            "open_deals": impact.get("open_deals", 0),
            "open_pipeline": impact.get("open_pipeline", 0.0),
            "pending_allocations": impact.get("pending_allocations", 0),
        }

    def _items(self, obj):
        return list(obj.items.all())

    def get_accounts(self, obj) -> list[int]:
        return [i.account_id for i in self._items(obj) if i.account_id]

    def get_allocations(self, obj) -> list[int]:
        return [i.allocation_id for i in self._items(obj) if i.allocation_id]

    def get_items(self, obj) -> list[dict]:
        """What execution did per record: {kind, account, allocation, status, detail,
        new_allocation}."""
        return [
            {
                "kind": i.kind,
                "account": i.account_id,
                "allocation": i.allocation_id,
                "from_member": i.from_member_id,
                "status": i.status,
                "detail": i.detail,
                "new_allocation": i.new_allocation_id,
            }
            for i in self._items(obj)
        ]


class ReassignmentRequestCreateSerializer(WorkspaceScopedSerializer):
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT),
        required=False,
        default=list,
        max_length=MAX_IDS,
    )
    allocations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT),
        required=False,
        default=list,
        max_length=MAX_IDS,
    )
    to_member = serializers.PrimaryKeyRelatedField(queryset=Member.objects.all())
    from_member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.all(), required=False, allow_null=True, default=None
    )
    territory = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), required=False, allow_null=True, default=None
    )
    reason = serializers.CharField(max_length=2000)
    effective_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    open_deals = serializers.ChoiceField(
        choices=OpenDeals.choices, required=False, default=OpenDeals.FOLLOW_REP
    )

    class Meta:
        model = ReassignmentRequest
        fields = [
            "accounts",
            "allocations",
            "to_member",
            "from_member",
            "territory",
            "reason",
            "effective_at",
            "open_deals",
        ]
        # The new owner may be anyone in the workspace (another team's rep): the approvals
        # decide. What is moved (accounts, allocations, from_member) stays within the scope.
        workspace_wide_fields = ("to_member",)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
        request = self.context.get("request")
        if request is not None:
            scope = row_scope_for_request(request)
            for field, model in (("accounts", Account), ("allocations", Allocation)):
                hidden = ids_out_of_scope(
                    model, attrs.get(field) or [], workspace=request.workspace, scope=scope
                )
                if hidden:
                    # As another workspace's id: "no such", never "not yours".
                    raise serializers.ValidationError(
                        {field: [f"No such {field} in this workspace: {hidden}."]}
                    )
        return attrs


def ids_out_of_scope(model, ids, *, workspace, scope) -> str:
    """The ids among `ids` whose rows exist in the workspace but lie outside `scope`
    (missing ones are the service's to report), comma-separated; empty when none."""
    if not ids or scope.is_everything:
        return ""
    rows = model.objects.filter(workspace=workspace, pk__in=ids)
    visible = set(rows_in_scope(rows, scope=scope).values_list("pk", flat=True))
    hidden = sorted(set(rows.values_list("pk", flat=True)) - visible)
    return ", ".join(map(str, hidden[:20]))


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000)
