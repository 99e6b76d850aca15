"""SLA clocks: started for owned allocations under a policy, stopped by acceptance, and the
sweep that reminds at the policy's point and acts on breach (DESIGN §9).

Concurrency: the sweep takes each clock row with FOR UPDATE SKIP LOCKED (overlapping sweeps
never act on one clock twice; the WHERE is re-checked on the locked row) and then the
record's lock through the reassignment path; an acceptance takes the clock row with FOR
UPDATE, so it waits for a sweep acting on it and then finds the record moved (409), or
gets there first and the sweep no longer sees an unaccepted clock.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from allocation.models import Allocation, AllocationStatus
from allocation.selectors import allocation_record_owner_ids
from allocation.services import (
    allocation_reassign,
    allocation_redistribute,
    allocation_unassign,
)
from members.models import Absence, Member
from notifications.events import publish
from revorg.errors import ApplicationError, ConflictError
from revorg.models import Role, Workspace, WorkspaceMembership
from revorg.services import SystemActor, audit_record
from territories.models import Territory

from .models import BreachAction, SlaClock, SlaPolicy, SlaSweepMark
from .working_hours import due_at

logger = logging.getLogger(__name__)
SWEEP_ACTOR = SystemActor(name="SLA sweep")
# Allocations are discovered from the last mark minus this (a transaction that made an
# entry may commit a little after its created_at).
DISCOVERY_MARGIN = timedelta(minutes=10)
BATCH = 1000
SMALL_INSERT = 20
# Breached clocks per Celery task when a broker runs them (each acts in its own transaction).
BREACH_CHUNK = 25
OWNED = (AllocationStatus.ASSIGNED, AllocationStatus.FALLBACK)


# --- which policy, when due --------------------------------------------------------------


class PolicyResolver:
    """A workspace's policies: a territory's own, else its nearest ancestor's, else the
    workspace's (no territory)."""

    def __init__(self, workspace_id: int):
        policies = list(SlaPolicy.objects.filter(workspace_id=workspace_id))
        self.by_territory = {p.territory_id: p for p in policies if p.territory_id}
        self.default = next((p for p in policies if p.territory_id is None), None)
        self.parent_of = dict(
            Territory.objects.filter(workspace_id=workspace_id).values_list("pk", "parent_id")
        )
        self.empty = not policies

    def policy_for(self, territory_id: int | None) -> SlaPolicy | None:
        seen = set()
        while territory_id is not None and territory_id not in seen:
            if territory_id in self.by_territory:
                return self.by_territory[territory_id]
            seen.add(territory_id)
            territory_id = self.parent_of.get(territory_id)
        return self.default

    def covers(self, policy: SlaPolicy | None, allocation_row) -> bool:
        return (
            policy is not None
            and allocation_row["record_type"] in (policy.record_types or [])
            and allocation_row["created_at"] >= policy.created_at
        )


class Calendar:
    """Members' schedules, zones and absences, loaded once for many clocks."""

    def __init__(self, member_ids, since):
        self.members = {
            m["pk"]: m
            for m in Member.objects.filter(pk__in=set(member_ids)).values(
                "pk", "working_hours", "timezone", "manager_id", "name"
            )
        }
        self.absences = defaultdict(list)
        for member_id, starts, ends in Absence.objects.filter(
            member_id__in=set(member_ids), ends_at__gt=since
        ).values_list("member_id", "starts_at", "ends_at"):
            self.absences[member_id].append((starts, ends))

    def due(self, member_id: int, start, minutes: float):
        member = self.members.get(member_id) or {}
        return due_at(
            start=start,
            minutes=minutes,
            schedule=member.get("working_hours") or {},
            zone_name=member.get("timezone") or "UTC",
            absences=self.absences.get(member_id, ()),
        )


def _clock_times(calendar: Calendar, policy: SlaPolicy, owner_id: int, start):
    minutes = policy.respond_within_minutes
    member = calendar.members.get(owner_id) or {}
    if not member.get("working_hours") and not calendar.absences.get(owner_id):
        # Round the clock with no time off: plain arithmetic (most of a big backlog).
        return (
            start + timedelta(minutes=minutes * policy.remind_at_percent / 100),
            start + timedelta(minutes=minutes),
        )
    remind = calendar.due(owner_id, start, minutes * policy.remind_at_percent / 100)
    return remind, calendar.due(owner_id, start, minutes)


def _clock_new(*, calendar, policy, row, breaches: int) -> tuple:
    """A new clock's column values (`CLOCK_COLUMNS` order); `policy` None: no deadline."""
    remind = due = None
    if policy is not None:
        remind, due = _clock_times(calendar, policy, row["owner_id"], row["created_at"])
    return (
        row["workspace_id"],
        row["pk"],
        policy.pk if policy is not None else None,
        row["owner_id"],
        row["territory_id"],
        row["created_at"],
        remind,
        due,
        breaches,
    )


CLOCK_COLUMNS = (
    ("workspace_id", "bigint"),
    ("allocation_id", "bigint"),
    ("policy_id", "bigint"),
    ("owner_id", "bigint"),
    ("territory_id_at_start", "bigint"),
    ("started_at", "timestamptz"),
    ("remind_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("breaches", "integer"),
)


def _clocks_insert(clocks: list[tuple]) -> int:
    """New clocks (`_clock_new` tuples); a clock that exists already is left alone (a
    concurrent sweep or acceptance made it). Returns how many were new. Postgres: COPY into
    a temporary table, then one INSERT … ON CONFLICT DO NOTHING (the ORM's per-value work
    cost more than computing the due times)."""
    if not clocks:
        return 0
    names = [name for name, _ in CLOCK_COLUMNS]
    if connection.vendor != "postgresql":
        objs = [SlaClock(**dict(zip(names, values, strict=True))) for values in clocks]
        return len(SlaClock.objects.bulk_create(objs, batch_size=BATCH, ignore_conflicts=True))
    table = SlaClock._meta.db_table
    columns = ", ".join(names)
    if len(clocks) <= SMALL_INSERT:  # a breach's new clock: no temporary table
        row = f"({', '.join(['%s'] * len(names))}, '', '', '', '')"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}, accepted_via, accepted_by, outcome, "
                f"crm_initial_status) VALUES {', '.join([row] * len(clocks))} "
                "ON CONFLICT (allocation_id) DO NOTHING",
                [value for values in clocks for value in values],
            )
            return cursor.rowcount
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sla_clock_tmp")
        cursor.execute(
            "CREATE TEMP TABLE sla_clock_tmp ("
            + ", ".join(f"{name} {kind}" for name, kind in CLOCK_COLUMNS)
            + ") ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY sla_clock_tmp ({columns}) FROM STDIN") as copy:
            for values in clocks:
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {table} ({columns}, accepted_via, accepted_by, outcome, "
            f"crm_initial_status) SELECT {columns}, '', '', '', '' FROM sla_clock_tmp "
            "ON CONFLICT (allocation_id) DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE sla_clock_tmp")
    return inserted


ROW_FIELDS = (
    "pk",
    "workspace_id",
    "owner_id",
    "territory_id",
    "record_type",
    "created_at",
    "reassigned_from_id",
)


def clocks_start(*, workspace_id: int, now=None) -> int:
    """Starts the clocks of the workspace's new owned, current entries under a policy
    (idempotent: a clock exists once per entry). Returns how many started."""
    now = now or timezone.now()
    resolver = PolicyResolver(workspace_id)
    if resolver.empty:
        return 0
    mark = SlaSweepMark.objects.filter(workspace_id=workspace_id).first()
    earliest = min(
        p.created_at for p in [*resolver.by_territory.values(), resolver.default] if p is not None
    )
    since = max(earliest, mark.started_through - DISCOVERY_MARGIN) if mark else earliest
    rows = list(
        Allocation.objects.filter(
            workspace_id=workspace_id,
            created_at__gte=since,
            created_at__lte=now,
            is_current=True,
            status__in=OWNED,
            sla__isnull=True,
        ).values(*ROW_FIELDS)
    )
    started = 0
    if rows:
        # A person's reassignment after a breach carries the record's breaches on.
        carried = {
            allocation_id: breaches + (breached_at is not None)
            for allocation_id, breaches, breached_at in SlaClock.objects.filter(
                allocation_id__in=[r["reassigned_from_id"] for r in rows if r["reassigned_from_id"]]
            ).values_list("allocation_id", "breaches", "breached_at")
        }
        calendar = Calendar({r["owner_id"] for r in rows}, since)
        clocks = []
        for row in rows:
            policy = resolver.policy_for(row["territory_id"])
            if resolver.covers(policy, row):
                breaches = carried.get(row["reassigned_from_id"], 0)
                clocks.append(
                    _clock_new(calendar=calendar, policy=policy, row=row, breaches=breaches)
                )
        started = _clocks_insert(clocks)
    SlaSweepMark.objects.update_or_create(
        workspace_id=workspace_id, defaults={"started_through": now}
    )
    return started


def clock_start_for(
    *, allocation: Allocation, breaches: int, resolver: "PolicyResolver | None" = None
) -> SlaClock | None:
    """The clock of one new entry (the sweep's own reassignments), if a policy covers it."""
    if allocation.owner_id is None:
        return None
    resolver = resolver or PolicyResolver(allocation.workspace_id)
    row = Allocation.objects.filter(pk=allocation.pk).values(*ROW_FIELDS)[0]
    policy = resolver.policy_for(allocation.territory_id)
    if policy is None or row["record_type"] not in (policy.record_types or []):
        return None
    calendar = Calendar([allocation.owner_id], allocation.created_at)
    _clocks_insert([_clock_new(calendar=calendar, policy=policy, row=row, breaches=breaches)])
    return SlaClock.objects.filter(allocation_id=allocation.pk).first()


# --- acceptance --------------------------------------------------------------------------


def allocation_accept(*, workspace, actor, allocation: Allocation, via: str) -> SlaClock:
    """The owner took the record: the clock stops (idempotent: a second acceptance answers
    the first). A record no longer current (the sweep moved it) is a 409."""
    now = timezone.now()
    with transaction.atomic():
        clock = SlaClock.objects.select_for_update().filter(allocation_id=allocation.pk).first()
        if clock is None:
            # Not seen by the sweep yet (or under no policy): its clock starts and stops here.
            row = Allocation.objects.filter(pk=allocation.pk).values(*ROW_FIELDS).first()
            resolver = PolicyResolver(workspace.pk)
            policy = resolver.policy_for(row["territory_id"])
            if row["owner_id"] is None or not resolver.covers(policy, row):
                policy = None  # acceptance is still recorded (time to accept)
            calendar = Calendar([row["owner_id"]] if row["owner_id"] else [], row["created_at"])
            _clocks_insert([_clock_new(calendar=calendar, policy=policy, row=row, breaches=0)])
            clock = SlaClock.objects.select_for_update().get(allocation_id=allocation.pk)
        if clock.accepted_at is not None:
            return clock
        fresh = Allocation.objects.filter(pk=allocation.pk).values("is_current", "owner_id")[0]
        if not fresh["is_current"] or clock.breached_at is not None:
            raise ConflictError(
                "This entry is no longer the record's current one"
                + (f" ({clock.outcome})" if clock.outcome else "")
                + ": there is nothing to accept.",
            )
        if fresh["owner_id"] is None:
            raise ApplicationError("An unassigned record has no owner to accept it.")
        clock.accepted_at = now
        clock.accepted_via = via
        clock.accepted_by = actor.label[:200]
        clock.closed_at = None
        clock.save(update_fields=["accepted_at", "accepted_via", "accepted_by", "closed_at"])
    return clock


# --- the sweep ---------------------------------------------------------------------------


def _open_clocks():
    return SlaClock.objects.filter(
        accepted_at__isnull=True, breached_at__isnull=True, closed_at__isnull=True
    )


def reminders_send(*, now=None, limit: int = 50_000) -> int:
    """Marks the clocks past their reminder point and announces each (sla_warning)."""
    now = now or timezone.now()
    sent = 0
    while sent < limit:
        with transaction.atomic():
            rows = list(
                _open_clocks()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(reminded_at__isnull=True, remind_at__lte=now, allocation__is_current=True)
                .order_by("remind_at")
                .values("pk", "workspace_id", "allocation_id", "owner_id", "due_at")[:BATCH]
            )
            if not rows:
                break
            SlaClock.objects.filter(pk__in=[r["pk"] for r in rows]).update(reminded_at=now)
            workspaces = Workspace.objects.in_bulk({r["workspace_id"] for r in rows})
            owners = Member.objects.in_bulk({r["owner_id"] for r in rows if r["owner_id"]})
            for row in rows:
                publish(
                    workspace=workspaces[row["workspace_id"]],
                    event_type="allocation.sla_warning",
                    data={
                        "allocation": row["allocation_id"],
                        "owner": row["owner_id"],
                        "due_at": row["due_at"].isoformat(),
                    },
                    members=[owners[row["owner_id"]]] if row["owner_id"] in owners else [],
                )
        sent += len(rows)
    return sent


def stale_clocks_close(*, now=None) -> int:
    """Open clocks whose entry was replaced (a person reassigned it, a later allocation)."""
    now = now or timezone.now()
    return (
        _open_clocks()
        .filter(allocation__is_current=False)
        .filter(remind_at__lte=now)
        .update(closed_at=now, outcome="entry replaced before acceptance")
    )


def _admin_members(workspace_id) -> list[Member]:
    return list(
        Member.objects.filter(
            pk__in=WorkspaceMembership.objects.filter(
                workspace_id=workspace_id, role=Role.ADMIN, member__isnull=False
            ).values("member_id")
        )
    )


def breach_handle(*, clock_id: int, now=None, resolvers: dict | None = None) -> str | None:
    """Acts on one breached clock, once: `reassign` (the engine's next eligible member, no
    previous owner of the record), `escalate` (the owner's manager), or after the policy's
    `max_breaches` the unassigned queue with the admins alerted. None when another sweep
    holds it or it is no longer due (accepted, replaced, handled)."""
    now = now or timezone.now()
    with transaction.atomic():
        clock = (
            _open_clocks()
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("allocation", "policy", "owner")
            .filter(pk=clock_id, due_at__lte=now)
            .first()
        )
        if clock is None:
            return None
        entry = clock.allocation
        policy = clock.policy
        if not entry.is_current or policy is None:
            clock.closed_at = now
            clock.outcome = "entry replaced before acceptance" if policy else "policy removed"
            clock.save(update_fields=["closed_at", "outcome"])
            return clock.outcome
        workspace = Workspace.objects.get(pk=clock.workspace_id)
        breach = clock.breaches + 1
        owner = clock.owner
        owner_name = owner.name if owner else "nobody"
        step = {
            "step": "sla",
            "member": clock.owner_id,
            "outcome": "breached",
            "detail": f"{owner_name} did not accept within {policy.respond_within_minutes} "
            f"working minutes (due {clock.due_at:%Y-%m-%d %H:%M} UTC); breach {breach}, "
            f"policy {policy.name} allows {policy.max_breaches}",
        }
        reason = f"SLA breach {breach} ({policy.name})"
        alert_admins = False
        if breach > policy.max_breaches:
            new = allocation_unassign(
                workspace=workspace,
                actor=SWEEP_ACTOR,
                allocation=entry,
                reason=f"{reason}: more than {policy.max_breaches} breaches, to the queue",
                trace=[step],
            )
            outcome, alert_admins = "sent to the unassigned queue", True
        elif policy.on_breach == BreachAction.REASSIGN:
            previous = allocation_record_owner_ids(allocation=entry)
            new = allocation_redistribute(
                workspace=workspace,
                actor=SWEEP_ACTOR,
                allocation=entry,
                excluded={m: "a previous owner of the record (SLA)" for m in previous},
                reason=reason,
                trace=[step],
            )
            if new.owner_id is None:
                outcome, alert_admins = "no eligible member who never owned it: queued", True
            else:
                outcome = f"reassigned to member {new.owner_id}"
        else:
            new, outcome = _escalate(workspace=workspace, entry=entry, owner=owner, step=step,
                                     reason=reason)  # fmt: skip
            alert_admins = new.owner_id is None
        clock.breached_at = now
        clock.outcome = outcome
        clock.save(update_fields=["breached_at", "outcome"])
        if new.owner_id is not None:
            resolvers = resolvers if resolvers is not None else {}
            if workspace.pk not in resolvers:
                resolvers[workspace.pk] = PolicyResolver(workspace.pk)
            clock_start_for(allocation=new, breaches=breach, resolver=resolvers[workspace.pk])
        concerned = [m for m in (owner, _member(new.owner_id)) if m is not None]
        if alert_admins:
            concerned += _admin_members(workspace.pk)
        publish(
            workspace=workspace,
            event_type="allocation.sla_breached",
            data={
                "allocation": entry.pk,
                "owner": clock.owner_id,
                "due_at": clock.due_at.isoformat(),
                "breach": breach,
                "action": "unassigned" if new.owner_id is None else policy.on_breach,
                "outcome": outcome,
                "new_allocation": new.pk,
                "new_owner": new.owner_id,
            },
            members=list({m.pk: m for m in concerned}.values()),
        )
    return outcome


def _member(member_id):
    return Member.objects.filter(pk=member_id).first() if member_id else None


def _escalate(*, workspace, entry, owner, step, reason):
    manager = owner.manager if owner is not None else None
    if manager is None:
        new = allocation_unassign(
            workspace=workspace, actor=SWEEP_ACTOR, allocation=entry,
            reason=f"{reason}: the owner has no manager to escalate to", trace=[step],
        )  # fmt: skip
        return new, "no manager to escalate to: queued"
    try:
        new = allocation_reassign(
            workspace=workspace,
            actor=SWEEP_ACTOR,
            allocation=entry,
            owner=manager,
            reason=f"{reason}: escalated to {manager.name}",
            trace=[
                step,
                {
                    "step": "sla",
                    "member": manager.pk,
                    "outcome": "escalated",
                    "detail": f"escalated to {owner.name}'s manager {manager.name}",
                },
            ],
        )
    except ConflictError:
        raise
    except ApplicationError as exc:
        new = allocation_unassign(
            workspace=workspace, actor=SWEEP_ACTOR, allocation=entry,
            reason=f"{reason}: the manager {manager.name} cannot take it ({exc.message})",
            trace=[step],
        )  # fmt: skip
        return new, f"manager {manager.name} cannot take it: queued"
    return new, f"escalated to member {manager.pk}"


def breach_chunk_handle(*, clock_ids, now=None) -> dict:
    """Acts on these clocks, each in its own transaction (a chunk of a tick's breaches)."""
    now = now or timezone.now()
    counts, resolvers = defaultdict(int), {}
    for clock_id in clock_ids:
        try:
            outcome = breach_handle(clock_id=clock_id, now=now, resolvers=resolvers)
        except ConflictError:
            outcome = None  # a person reassigned it meanwhile: the next sweep closes it
        if outcome is None:
            counts["skipped"] += 1
        elif outcome.startswith("entry replaced") or outcome == "policy removed":
            counts["closed"] += 1
        else:
            counts["breached"] += 1
    return dict(counts)


def breaches_handle(*, now=None, limit: int = 50_000) -> dict:
    """Every open clock past its due time. With a broker, chunks go to the Celery workers
    (a tick only finds and dispatches them; more workers, more breaches acted on at once);
    without one (demo mode, tests) they are handled here. Either way each clock is acted on
    once, whoever gets to it first."""
    from .tasks import breach_chunk_task

    now = now or timezone.now()
    ids = list(
        _open_clocks()
        .filter(due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not breach_chunk_task.app.conf.task_always_eager:
        for start in range(0, len(ids), BREACH_CHUNK):
            breach_chunk_task.delay(ids[start : start + BREACH_CHUNK], now.isoformat())
        return {"dispatched": len(ids)}
    return breach_chunk_handle(clock_ids=ids, now=now)


def sla_sweep(*, now=None) -> dict:
    """One tick: start new clocks, send reminders, act on breaches. Safe to run while
    another tick runs (each clock is acted on once) and against concurrent acceptances."""
    now = now or timezone.now()
    started = 0
    for workspace_id in (
        SlaPolicy.objects.order_by().values_list("workspace_id", flat=True).distinct()
    ):
        started += clocks_start(workspace_id=workspace_id, now=now)
    closed = stale_clocks_close(now=now)
    reminded = reminders_send(now=now)
    breaches = breaches_handle(now=now)
    return {"started": started, "reminded": reminded, "closed": closed, **breaches}


# --- policies ----------------------------------------------------------------------------


def time_to_accept(*, workspace, by: str, since=None, until=None) -> list[dict]:
    """p50/p90 minutes from an entry's start to its acceptance, per owner or per territory,
    over the clocks accepted in [since, until) (wall-clock minutes)."""
    column = "owner_id" if by == "member" else "territory_id_at_start"
    table = SlaClock._meta.db_table
    where, params = ["workspace_id = %s", "accepted_at IS NOT NULL"], [workspace.pk]
    if since is not None:
        where.append("accepted_at >= %s")
        params.append(since)
    if until is not None:
        where.append("accepted_at < %s")
        params.append(until)
    if connection.vendor != "postgresql":
        return _time_to_accept_portable(workspace, column, since, until)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, count(*), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM accepted_at - "
            "started_at)) / 60, "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM accepted_at - "
            "started_at)) / 60 "
            f"FROM {table} WHERE {' AND '.join(where)} AND {column} IS NOT NULL "
            f"GROUP BY {column} ORDER BY {column}",
            params,
        )
        rows = cursor.fetchall()
    return [
        {"id": key, "accepted": n, "p50_minutes": round(p50, 1), "p90_minutes": round(p90, 1)}
        for key, n, p50, p90 in rows
    ]


def _time_to_accept_portable(workspace, column, since, until):
    clocks = SlaClock.objects.filter(workspace=workspace, accepted_at__isnull=False)
    if since is not None:
        clocks = clocks.filter(accepted_at__gte=since)
    if until is not None:
        clocks = clocks.filter(accepted_at__lt=until)
    groups = defaultdict(list)
    for key, started, accepted in clocks.values_list(column, "started_at", "accepted_at"):
        if key is not None:
            groups[key].append((accepted - started).total_seconds() / 60)
    rows = []
    for key in sorted(groups):
        values = sorted(groups[key])
        rows.append(
            {
                "id": key,
                "accepted": len(values),
                "p50_minutes": round(_percentile(values, 0.5), 1),
                "p90_minutes": round(_percentile(values, 0.9), 1),
            }
        )
    return rows


def _percentile(values, q):
    """Linear interpolation, as Postgres' percentile_cont."""
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


# --- policies ---------------------------------------------------------------------------

POLICY_FIELDS = (
    "name",
    "territory_id",
    "respond_within_minutes",
    "remind_at_percent",
    "on_breach",
    "max_breaches",
    "record_types",
)


def _policy_values(policy: SlaPolicy) -> dict:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


@transaction.atomic
def sla_policy_save(*, workspace, actor, policy: SlaPolicy | None, data: dict) -> SlaPolicy:
    """Create (`policy` None) or change a policy from validated data (the API serializer's),
    audited. Clocks already running keep their due time; new ones use the saved policy."""
    before = _policy_values(policy) if policy is not None else None
    if policy is None:
        policy = SlaPolicy(workspace=workspace)
    for name, value in data.items():
        setattr(policy, name, value)
    policy.save()
    audit_record(
        workspace=workspace,
        actor=actor,
        action="update" if before is not None else "create",
        obj=policy,
        before=before,
        after=_policy_values(policy),
    )
    return policy


@transaction.atomic
def sla_policy_delete(*, workspace, actor, policy: SlaPolicy) -> None:
    """Deleted, audited; the clocks it started close unacted at their due time."""
    audit_record(
        workspace=workspace, actor=actor, action="delete", obj=policy, before=_policy_values(policy)
    )
    policy.delete()
