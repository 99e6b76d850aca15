"""Reads for capacities outside the allocation hot path (pages, reports)."""

from .models import PipelineSnapshot
from .services import capacity_usage_for_members


def latest_open_deals(*, workspace, member_ids) -> dict[int, int]:
    """Open deals of each member's latest pipeline snapshot."""
    latest: dict[int, int] = {}
    snapshots = PipelineSnapshot.objects.filter(
        workspace=workspace, member_id__in=list(member_ids)
    ).order_by("member_id", "-taken_at", "-id")
    for member_id, open_deals in snapshots.values_list("member_id", "open_deals"):
        latest.setdefault(member_id, open_deals)
    return latest


def utilisation_by_member(*, workspace, members) -> dict[int, dict]:
    """The fullest capacity of each member: {member id: {used, limit, percent, period}}."""
    usage = capacity_usage_for_members(workspace=workspace, members=members)
    result = {}
    for member_id, rows in usage.items():
        fullest = max(rows, key=lambda u: u.used / u.limit if u.limit else 1.0)
        percent = min(round(fullest.used / fullest.limit * 100), 100) if fullest.limit else 100
        result[member_id] = {
            "used": fullest.used,
            "limit": fullest.limit,
            "period": fullest.period,
            "percent": percent,
        }
    return result
