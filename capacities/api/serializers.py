from rest_framework import serializers

from book.selectors import book_sizes
from revorg.api import WorkspaceScopedSerializer

from ..models import Capacity, Period, PipelineSnapshot, Source
from ..services import CapacityUsage, capacity_usage_for_members

RECORD_TYPES = ("lead", "contact", "account", "opportunity")


class CapacityListSerializer(serializers.ListSerializer):
    """Computes the usage of a whole page in two queries, not two per capacity."""

    def to_representation(self, data):
        capacities = list(data.all() if hasattr(data, "all") else data)
        self.child.context["usage"] = usage_by_capacity(capacities)
        return [self.child.to_representation(capacity) for capacity in capacities]


def usage_by_capacity(capacities) -> dict:
    if not capacities:
        return {}
    members = {capacity.member_id: capacity.member for capacity in capacities}
    usage = capacity_usage_for_members(
        workspace=capacities[0].workspace, members=list(members.values())
    )
    by_capacity = {u.capacity_id: u for rows in usage.values() for u in rows}
    book = [capacity for capacity in capacities if capacity.source == Source.ACCOUNTS]
    if book:
        # An `accounts` capacity caps the book a rep owns, whenever it was assigned.
        sizes = book_sizes(
            workspace_id=capacities[0].workspace_id, member_ids={c.member_id for c in book}
        )
        for capacity in book:
            by_capacity[capacity.pk] = CapacityUsage(
                capacity_id=capacity.pk,
                member_id=capacity.member_id,
                limit=capacity.limit,
                period=capacity.period,
                used=sizes.get(capacity.member_id, 0),
                resets_at=None,
            )
    return by_capacity


class CapacitySerializer(WorkspaceScopedSerializer):
    """`used`, `remaining` and `resets_at` are computed now, in the member's time zone;
    `resets_at` is null for open-deal limits (they free up when deals close)."""

    used = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    resets_at = serializers.SerializerMethodField()

    class Meta:
        model = Capacity
        list_serializer_class = CapacityListSerializer
        fields = [
            "id",
            "member",
            "name",
            "limit",
            "period",
            "window_hours",
            "record_types",
            "source",
            "used",
            "remaining",
            "resets_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def _usage(self, capacity):
        usage = self.context.get("usage")
        if usage is None or capacity.pk not in usage:
            usage = self.context["usage"] = usage_by_capacity([capacity])
        return usage.get(capacity.pk)

    def get_used(self, capacity) -> int:
        usage = self._usage(capacity)
        return usage.used if usage else 0

    def get_remaining(self, capacity) -> int:
        usage = self._usage(capacity)
        return usage.remaining if usage else capacity.limit

    def get_resets_at(self, capacity) -> str | None:
        usage = self._usage(capacity)
        if usage is None or usage.resets_at is None:
            return None
        return serializers.DateTimeField().to_representation(usage.resets_at)

    def validate_record_types(self, value):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise serializers.ValidationError("must be a list of record types")
        unknown = sorted(set(value) - set(RECORD_TYPES))
        if unknown:
            raise serializers.ValidationError(
                f"unknown record type(s) {', '.join(unknown)}; use {', '.join(RECORD_TYPES)}"
            )
        return sorted(set(value))

    def validate(self, attrs):
        period = attrs.get("period", getattr(self.instance, "period", Period.DAY))
        hours = attrs.get("window_hours", getattr(self.instance, "window_hours", None))
        if period == Period.ROLLING and not hours:
            raise serializers.ValidationError(
                {"window_hours": ["required for a rolling window (1 to 8760 hours)"]}
            )
        if period != Period.ROLLING and hours:
            raise serializers.ValidationError(
                {"window_hours": ["only a rolling window has window_hours"]}
            )
        if hours and hours > 8760:
            raise serializers.ValidationError({"window_hours": ["at most 8760 hours (a year)"]})
        return attrs


class PipelineSnapshotSerializer(WorkspaceScopedSerializer):
    """Open deals per member as the CRM reported them; the latest one is what open-deal
    capacities count from. CRM sync writes these; the API accepts them too."""

    class Meta:
        model = PipelineSnapshot
        fields = ["id", "member", "open_deals", "taken_at", "created_at"]
        read_only_fields = ["created_at"]
