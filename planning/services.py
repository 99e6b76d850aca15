"""Simulation of a plan against the whole book (DESIGN §8), as a chunked job that writes
nothing to the book.

Each chunk reads an id range of accounts and resolves them with the simulated plan's
compiled matcher in bulk, outside any transaction (the CPU part, in parallel on every
worker). Accounts whose owner stays (sticky) or that no territory matches are decided there;
the others need distribution. In the chunk's transaction the job's `SimulationState` row is
locked — it serialises the picks of all chunks as the territories' advisory locks do for a
real re-evaluation — the picks are made with the shared simulated rotations and books, and
every account's outcome is COPY'd into the UNLOGGED `SimulatedAccount` table. The chunk that
finds all others done aggregates in SQL (per territory, per rep, balance, coverage, moves)
into the job's result, in the same transaction, so a finished job always carries its result.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum

from allocation.book_entries import rotation_states_load
from allocation.engine import RotationSnapshot, round_robin_pick
from book import services as book_services
from book.assignment import account_decide, needs_pick
from book.models import Account, Opportunity
from book.selectors import account_records
from jobs import services as job_services
from jobs.models import ChunkState, Job, JobChunk, JobKind
from revorg.errors import ApplicationError, ConflictError
from revorg.services import audit_record
from territories import services as territory_services
from territories.models import PlanStatus, Territory, TerritoryPlan
from territories.selectors import matcher_for_plan

from . import selectors
from .models import SimulatedAccount, SimulationState

SIMULATE = "planning.simulate"
# Scratch rows of this many most recent simulations per workspace are kept (the comparison
# page and the moves CSV read them); older ones are removed when a new one starts.
SIMULATIONS_KEPT = 5


def simulation_start(*, plan: TerritoryPlan, actor_label: str) -> Job:
    """A queued simulation of `plan` (draft, active or archived) against the whole book."""
    return job_services.job_create(
        workspace=plan.workspace,
        kind=JobKind.SIMULATE,
        handler=SIMULATE,
        actor_label=actor_label,
        params={"plan": plan.pk, "plan_name": plan.name},
    )


def _scratch_prune(*, workspace_id: int) -> None:
    kept = list(
        Job.objects.filter(workspace_id=workspace_id, handler=SIMULATE)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:SIMULATIONS_KEPT]
    )
    SimulatedAccount.objects.filter(workspace_id=workspace_id).exclude(job_id__in=kept).delete()


def simulate_plan(job) -> list[dict]:
    """The book's id-range chunks (re-evaluation's), the shared state with every member's
    book of now; an empty book still gets one chunk, which writes the (empty) result."""
    _scratch_prune(workspace_id=job.workspace_id)
    SimulatedAccount.objects.filter(job_id=job.pk).delete()  # a replanned job starts clean
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT owner_id, count(*) FROM {Account._meta.db_table} "
            "WHERE workspace_id = %s AND owner_id IS NOT NULL GROUP BY owner_id",
            [job.workspace_id],
        )
        owned = {str(member_id): count for member_id, count in cursor.fetchall()}
    SimulationState.objects.update_or_create(
        job=job,
        defaults={
            "workspace_id": job.workspace_id,
            "plan_id": job.params["plan"],
            "owned_before": owned,
            "owned_delta": {},
            "rotations": {},
        },
    )
    chunks = book_services.account_ranges(job) or [{"min_id": 0, "max_id": 0, "size": 0}]
    for index, chunk in enumerate(chunks):
        chunk["index"] = index  # the last chunk to commit knows itself by it
    return chunks


class _Resolved:
    """What `account_decide` reads of a resolution, for a winner found by the bulk path."""

    __slots__ = ("candidate_ids", "trace", "winner")

    def __init__(self, winner):
        self.winner = winner
        self.candidate_ids = (winner.id,) if winner is not None else ()
        self.trace = ()


@dataclass
class Prepared:
    matcher: object
    members: dict
    decided: list = field(default_factory=list)  # (account id, territory, owner, status)
    picks: list = field(default_factory=list)  # (account id, owner id, record, winner)
    # account id -> (territory, owner, open deals, open pipeline) as the chunk read them.
    before: dict = field(default_factory=dict)


def _plan_of(job) -> TerritoryPlan:
    plan = TerritoryPlan.objects.filter(
        workspace_id=job.workspace_id, pk=job.params["plan"]
    ).first()
    if plan is None:
        raise ApplicationError("the simulated plan was deleted")
    return plan


_members_cache: dict = {}


def _members(job, matcher) -> dict:
    """The plan's members as the book sees them, loaded once per job and plan version in
    each worker process (every chunk of a job reads the same)."""
    key = (job.pk, matcher.plan.plan_id, matcher.plan.version)
    if key not in _members_cache:
        _members_cache.clear()
        _members_cache[key] = book_services.plan_members_load(
            workspace=job.workspace, matcher=matcher
        )
    return _members_cache[key]


def _simple_members(members) -> set[int]:
    """Members who keep or take an account on sight: active, present, no book cap."""
    return {
        member_id
        for member_id, member in members.items()
        if member.state.is_active and not member.state.absent and member.limit is None
    }


def _primaries(winner) -> tuple[int, ...]:
    return tuple(s.member_id for s in winner.slots if s.role == "primary")


def simulate_prepare(job, payload) -> Prepared:
    """Outside the transaction: resolve the chunk in bulk; decide all but the picks. An
    owner who is a plainly eligible primary of the winner stays without building the
    engine's view (the common case: most of a book does not move)."""
    workspace = job.workspace
    matcher = matcher_for_plan(plan=_plan_of(job))
    members = _members(job, matcher)
    simple = _simple_members(members)
    query = Account.objects.filter(workspace_id=workspace.pk, id__gte=payload["min_id"])
    if payload["max_id"] is not None:
        query = query.filter(id__lte=payload["max_id"])
    rows = account_records(query, "owner_id", "territory_id")
    records = [record for _, record, _, _ in rows]
    prepared = Prepared(matcher, members)
    deals = _open_deals(job.workspace_id, payload)
    for account_id, _, owner_id, territory_id in rows:
        prepared.before[account_id] = (territory_id, owner_id, *deals.get(account_id, (0, 0)))
    by_id = matcher.by_id
    keepers: dict[int, frozenset] = {}
    for (account_id, record, owner_id, _), winner_id in zip(
        rows, matcher.winners(records), strict=True
    ):
        if winner_id is None:
            prepared.decided.append((account_id, None, owner_id, "orphaned"))
            continue
        winner = by_id[winner_id]
        keep = keepers.get(winner_id)
        if keep is None:
            keep = keepers[winner_id] = (
                frozenset(_primaries(winner)) & simple
                if winner.member_rule is None
                else frozenset()
            )
        if owner_id in keep or not needs_pick(
            owner_id=owner_id, resolution=_Resolved(winner), members=members, fields=record
        ):
            prepared.decided.append((account_id, winner_id, owner_id, "assigned"))
        else:
            prepared.picks.append((account_id, owner_id, record, winner))
    return prepared


def _open_deals(workspace_id: int, payload) -> dict[int, tuple]:
    """{account id: (open deals, open pipeline)} of the chunk's id range."""
    deals = Opportunity.objects.filter(
        workspace_id=workspace_id, is_closed=False, account_id__gte=payload["min_id"]
    )
    if payload["max_id"] is not None:
        deals = deals.filter(account_id__lte=payload["max_id"])
    rows = (
        deals.order_by()
        .values("account_id")
        .annotate(n=Count("id"), amount=Sum("amount", default=Decimal(0)))
        .values_list("account_id", "n", "amount")
    )
    return {account_id: (n, amount) for account_id, n, amount in rows}


def _quick_pick(winner, simple: set, rotations: dict) -> int | None:
    """Strict rotation (the engine's `round_robin_pick`) for a round-robin territory whose
    primaries all take accounts on sight and that has no member rule; None: let the engine
    decide (backups, fallbacks, caps, rules, weights, loads)."""
    if winner.distribution != "round_robin" or winner.member_rule is not None:
        return None
    order = list(_primaries(winner))
    if not order or not set(order) <= simple:
        return None
    snapshot = rotations.get(winner.id) or RotationSnapshot()
    owner = round_robin_pick(order, snapshot.pointer_member_id, set(order))
    rotations[winner.id] = RotationSnapshot(owner, snapshot.current_weights)
    return owner


def simulate_apply(job, payload, prepared: Prepared) -> tuple[dict, list]:
    """In the chunk's transaction, under the job's state lock: the picks, the COPY, and —
    for the last chunk — the aggregation into the job's result."""
    state = SimulationState.objects.select_for_update().get(job_id=job.pk)
    rows = list(prepared.decided)
    if prepared.picks:
        rows += _picks_decide(job, state, prepared)
    _rows_write(job, rows, prepared.before)
    pending = (
        JobChunk.objects.filter(job_id=job.pk)
        .exclude(state=ChunkState.DONE)
        .exclude(index=payload["index"])
        .count()
    )
    if pending == 0:
        result = simulation_result(job=job, plan=_plan_of(job))
        Job.objects.filter(pk=job.pk).update(result=result)
    return {"evaluated": len(rows)}, []


def _picks_decide(job, state: SimulationState, prepared: Prepared) -> list:
    """Distribution for the accounts whose owner cannot stay, with the rotations and books
    every earlier chunk left in the shared state."""
    matcher, members = prepared.matcher, prepared.members
    before, delta = state.owned_before, dict(state.owned_delta)
    for member_id, member in members.items():
        member.owned = before.get(str(member_id), 0) + delta.get(str(member_id), 0)
    rotations = {
        int(tid): RotationSnapshot(pointer, weights)
        for tid, (pointer, weights) in state.rotations.items()
    }
    needed = {winner.id for _, _, _, winner in prepared.picks} - set(rotations)
    if needed:
        # The simulated plan's real pointers, when it has any (the active plan simulated).
        rotations.update(rotation_states_load(territory_ids=needed))
    default_member_id = job.workspace.default_member_id
    simple = _simple_members(members)
    rows = []
    for account_id, owner_id, record, winner in prepared.picks:
        new_owner = _quick_pick(winner, simple, rotations)
        if new_owner is not None:
            outcome = (winner.id, new_owner, "assigned")
        else:
            decided = account_decide(
                owner_id=owner_id,
                resolution=matcher.resolve(record),
                by_id=matcher.by_id,
                members=members,
                rotations=rotations,
                fields=record,
                default_member_id=default_member_id,
            )
            rotations.update(decided.rotation_updates)
            outcome = (decided.territory_id, decided.owner_id, decided.status)
        if outcome[1] != owner_id:
            for member_id, step in ((outcome[1], 1), (owner_id, -1)):
                if member_id is None:
                    continue
                delta[str(member_id)] = delta.get(str(member_id), 0) + step
                if member_id in members:
                    members[member_id].owned += step
        rows.append((account_id, *outcome))
    state.owned_delta = delta
    state.rotations = {
        str(tid): [snap.pointer_member_id, snap.current_weights] for tid, snap in rotations.items()
    }
    state.save(update_fields=["owned_delta", "rotations"])
    return rows


def _rows_write(job, rows, before: dict) -> None:
    """The chunk's outcomes with what the chunk read of each account (`before`)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        SimulatedAccount.objects.bulk_create(
            (
                SimulatedAccount(
                    workspace_id=job.workspace_id,
                    job_id=job.pk,
                    account_id=account_id,
                    territory_id=territory_id,
                    owner_id=owner_id,
                    status=status,
                    territory_before=before[account_id][0],
                    owner_before=before[account_id][1],
                    deals=before[account_id][2],
                    amount=before[account_id][3],
                )
                for account_id, territory_id, owner_id, status in rows
            ),
            batch_size=1000,
            ignore_conflicts=True,
        )
        return
    table = SimulatedAccount._meta.db_table
    with connection.cursor() as cursor:
        # A chunk retried after a failure writes its rows again: the old ones go first.
        cursor.execute(
            f"DELETE FROM {table} WHERE job_id = %s AND account_id >= %s AND account_id <= %s",
            [job.pk, min(r[0] for r in rows), max(r[0] for r in rows)],
        )
        with cursor.cursor.copy(
            f"COPY {table} (workspace_id, job_id, account_id, territory_id, owner_id, status, "
            "conflict, territory_before, owner_before, deals, amount) FROM STDIN"
        ) as copy:
            for account_id, territory_id, owner_id, status in rows:
                copy.write_row(
                    (
                        job.workspace_id,
                        job.pk,
                        account_id,
                        territory_id,
                        owner_id,
                        status,
                        False,
                        *before[account_id],
                    )
                )


def simulation_result(*, job, plan) -> dict:
    """The job's result (API.md, "Plan activation with a transition")."""
    aggregates = selectors.simulation_aggregates(job_id=job.pk, workspace_id=job.workspace_id)
    active = TerritoryPlan.objects.filter(
        workspace_id=job.workspace_id, status=PlanStatus.ACTIVE
    ).first()
    return {
        "plan": {"id": plan.pk, "name": plan.name},
        "compared_with": {"id": active.pk, "name": active.name} if active else None,
        "moves_csv": f"/api/v1/jobs/{job.pk}/moves.csv",  # API.md's path
        **selectors.simulation_summary(
            aggregates=aggregates, plan=plan, before_plan=active, workspace_id=job.workspace_id
        ),
    }


# --- rebalancing ----------------------------------------------------------------------------


@transaction.atomic
def rebalance_accept(*, plan: TerritoryPlan, suggestion_ids: list[str], actor, reason: str):
    """Applies the chosen move suggestions: on the active plan each moved account is locked
    to its new territory; on a draft it joins the new territory's named accounts. The plan
    row is locked and the suggestions recomputed under it, so a suggestion already applied
    (its accounts are now pinned) or outdated is refused with 409, and two requests
    accepting the same suggestion give one set of locks."""
    locked = TerritoryPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if locked is None:
        raise ConflictError("this plan was deleted")
    if locked.status == PlanStatus.ARCHIVED:
        raise ApplicationError("an archived plan cannot be rebalanced", field="plan")
    current = {move["id"]: move for move in selectors.rebalance_suggestions(plan=locked)["moves"]}
    missing = [sid for sid in suggestion_ids if sid not in current]
    if missing:
        raise ConflictError(
            f"suggestion(s) {', '.join(missing)} no longer apply (the book or the plan "
            "changed, or they were accepted already); reload the suggestions"
        )
    chosen = [current[sid] for sid in dict.fromkeys(suggestion_ids)]
    crm_ids = dict(
        Account.objects.filter(
            workspace_id=plan.workspace_id,
            pk__in=[a for move in chosen for a in move["accounts"]],
        ).values_list("id", "crm_id")
    )
    locks = named = 0
    for move in chosen:
        territory = Territory.objects.get(pk=move["to_territory"]["id"], plan=locked)
        keys = [crm_ids[a] for a in move["accounts"] if a in crm_ids]
        if locked.status == PlanStatus.ACTIVE:
            for key in keys:
                territory_services.account_lock_create(
                    workspace=locked.workspace,
                    actor=actor,
                    account=key,
                    territory=territory,
                    reason=f"{reason} (suggestion {move['id']})"[:500],
                )
                locks += 1
        else:
            before = list(territory.named_accounts or [])
            territory_services.territory_update(
                territory=territory, named_accounts=[*before, *keys]
            )
            audit_record(
                workspace=locked.workspace,
                actor=actor,
                action="update",
                obj=territory,
                before={"named_accounts": before},
                after={"named_accounts": [*before, *keys], "suggestion": move["id"]},
            )
            named += len(keys)
    return {"plan": locked.pk, "accepted": [m["id"] for m in chosen], "locks": locks,
            "named_accounts": named}  # fmt: skip
