"""The hand-computed replay example (see `hand_example`), and history rows at given times."""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from allocation.models import Allocation
from capacities.models import Capacity
from tests.factories import (
    AbsenceFactory,
    MemberFactory,
    TerritoryFactory,
    TerritoryPlanFactory,
    TerritorySlotFactory,
)

US = {"field": "country", "op": "eq", "value": "US"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 (UTC); the 2nd is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def history_row(*, workspace, when, owner, territory=None, country="US", record_id="", **extra):
    """A first allocation as it really happened at `when` (created_at set after the insert:
    the model stamps the present on create)."""
    row = Allocation.objects.create(
        workspace=workspace,
        status="assigned" if owner else "unassigned",
        owner=owner,
        territory=territory,
        record_type=extra.pop("record_type", "lead"),
        record_id=record_id,
        record_fields={"country": country},
        **extra,
    )
    Allocation.objects.filter(pk=row.pk).update(created_at=when)
    row.refresh_from_db()
    return row


@dataclass
class HandExample:
    plan: object
    territory: object
    ada: object
    bo: object
    cy: object
    rows: list  # the 11 history rows of the window, in time order
    since: datetime
    until: datetime


def hand_example(workspace) -> HandExample:
    """A draft plan with one territory "US" (country = US), round robin over Ada, Bo, Cy in
    that order; Bo has a daily capacity of 2; Cy is absent from Mar 2 12:00 to Mar 3 00:00.
    In reality (the active plan's "US", Ada alone) the last allocation before the window
    went to Bo, so the replayed rotation starts after Bo. The window [Mar 2 00:00, Mar 4
    00:00) holds 11 first allocations: ten US records and one FR record at 12:30 that no
    draft territory matches; all really went to Ada except Mar 3 09:00 (Bo)."""
    ada = MemberFactory(workspace=workspace, name="Ada")
    bo = MemberFactory(workspace=workspace, name="Bo")
    cy = MemberFactory(workspace=workspace, name="Cy")
    real = TerritoryFactory(workspace=workspace, name="US", rule=US)  # active plan
    TerritorySlotFactory(territory=real, member=ada)
    plan = TerritoryPlanFactory(workspace=workspace, name="Three reps")
    draft = TerritoryFactory(workspace=workspace, plan=plan, name="US", rule=US)
    for position, member in enumerate((ada, bo, cy)):
        TerritorySlotFactory(territory=draft, member=member, position=position)
    Capacity.objects.create(workspace=workspace, member=bo, limit=2, period="day")
    AbsenceFactory(workspace=workspace, member=cy, starts_at=at(2, 12), ends_at=at(3, 0))
    history_row(workspace=workspace, when=at(1, 17), owner=bo, territory=real, record_id="L0")
    moments = [
        (at(2, 9), ada, "US"),
        (at(2, 10), ada, "US"),
        (at(2, 11), ada, "US"),
        (at(2, 12, 30), ada, "FR"),
        (at(2, 13), ada, "US"),
        (at(2, 14), ada, "US"),
        (at(2, 15), ada, "US"),
        (at(2, 16), ada, "US"),
        (at(3, 9), bo, "US"),
        (at(3, 10), ada, "US"),
        (at(3, 11), ada, "US"),
    ]
    rows = [
        history_row(
            workspace=workspace,
            when=when,
            owner=owner,
            territory=real if country == "US" else None,
            country=country,
            record_id=f"L{n}",
        )
        for n, (when, owner, country) in enumerate(moments, start=1)
    ]
    return HandExample(plan, draft, ada, bo, cy, rows, since=at(2, 0), until=at(4, 0))


def history_bulk(*, workspace, territory, owners, n: int, start: datetime, seconds: int = 60):
    """`n` first allocations of US leads, one every `seconds` from `start`, owners in turn,
    written in one INSERT … SELECT (set-based: thousands of rows without a Python loop)."""
    table = Allocation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, status, owner_id, territory_id, record_type, "
            "record_id, record_crm, record_fields, decision, overlays, play_run_id, "
            "play_run_url, reason, actor_label, created_at, is_current) "
            "SELECT %s, 'assigned', (%s::bigint[])[1 + i %% %s], %s, 'lead', 'B' || i, '', "
            "'{\"country\": \"US\"}'::jsonb, '[]'::jsonb, '[]'::jsonb, '', '', '', 'bench', "
            "%s + make_interval(secs => i * %s), true FROM generate_series(0, %s - 1) AS i",
            [
                workspace.pk,
                [o.pk for o in owners],
                len(owners),
                territory.pk,
                start,
                seconds,
                n,
            ],
        )
