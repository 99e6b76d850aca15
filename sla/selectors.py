"""Reads of SLA data for pages and the API."""

from members.models import Member
from territories.models import Territory

from .services import time_to_accept


def time_to_accept_named(*, workspace, by: str, since=None, until=None) -> list[dict]:
    """`time_to_accept` rows with the member's or territory's name, slowest p50 first."""
    rows = time_to_accept(workspace=workspace, by=by, since=since, until=until)
    model = Member if by == "member" else Territory
    names = dict(
        model.objects.filter(workspace=workspace, pk__in=[r["id"] for r in rows]).values_list(
            "pk", "name"
        )
    )
    named = [{**row, "name": names.get(row["id"], "")} for row in rows]
    return sorted(named, key=lambda row: -row["p50_minutes"])
