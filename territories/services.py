"""Writes for territory plans, territories, slots and account locks.

Every change to a plan's contents bumps `TerritoryPlan.version` (`plan_touch`, the only place
that does) in the same transaction, which is what invalidates the compiled matcher cached in
each process. Nothing else writes these models (the Django admin only reads them).

Concurrency: plan activation and deletion are serialised per workspace (a row lock on the
workspace), edits of a plan's tree per plan (a row lock on the plan); what was checked before
waiting is checked again under the lock.
"""

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from revorg.errors import ApplicationError, ConflictError
from revorg.models import Workspace
from revorg.services import SYSTEM, Actor, audit_record

from . import signals
from .models import AccountLock, PlanStatus, Territory, TerritoryPlan, TerritorySlot

# Deeper trees than this are refused at save (the UI renders deeper legacy data too).
MAX_TREE_DEPTH = 20


def plan_touch(*, plan_id: int, reevaluation_queued: bool = False) -> None:
    """The plan's contents changed: a new version, so every process recompiles its matcher."""
    TerritoryPlan.objects.filter(pk=plan_id).update(version=F("version") + 1)
    transaction.on_commit(
        lambda: signals.plan_changed.send(
            sender=TerritoryPlan, plan_id=plan_id, reevaluation_queued=reevaluation_queued
        )
    )


def _lock_workspace_plans(*, workspace_id: int) -> None:
    """Serialises activation, creation and deletion of the workspace's plans. FOR NO KEY
    UPDATE: allocations (which only reference the workspace row) are not blocked."""
    list(Workspace.objects.select_for_update(no_key=True).filter(pk=workspace_id).values("pk"))


def _lock_plan(*, plan_id: int) -> TerritoryPlan | None:
    """Serialises edits of one plan's tree; the plan as it is now (None: deleted)."""
    return TerritoryPlan.objects.select_for_update(no_key=True).filter(pk=plan_id).first()


def _refuse_archived(plan: TerritoryPlan | None) -> None:
    """An archived plan is the record of what routed: its territories, slots and locks are
    read-only (409 naming the plan and its state); clone it to a draft to change it. A
    scheduled plan is read-only too: what activates is what was reviewed."""
    if plan is not None and plan.status == PlanStatus.ARCHIVED:
        raise ConflictError(
            f"plan '{plan.name}' is archived: an archived plan's territories and account locks "
            "are read-only history; clone it to a draft to make changes"
        )
    _refuse_scheduled(plan)


def _refuse_scheduled(plan: TerritoryPlan | None) -> None:
    if plan is not None and plan.status == PlanStatus.SCHEDULED:
        when = plan.effective_at.isoformat() if plan.effective_at else "its effective date"
        raise ConflictError(
            f"plan '{plan.name}' is scheduled to activate at {when}: a scheduled plan is "
            "read-only; unschedule it (DELETE …/schedule/) to change it"
        )


def _scheduled_plan(*, workspace_id: int, exclude_id: int | None = None) -> TerritoryPlan | None:
    return (
        TerritoryPlan.objects.filter(workspace_id=workspace_id, status=PlanStatus.SCHEDULED)
        .exclude(pk=exclude_id)
        .first()
    )


def _active_plan_id(*, workspace_id: int) -> int | None:
    return (
        TerritoryPlan.objects.filter(workspace_id=workspace_id, status=PlanStatus.ACTIVE)
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def plan_ensure_active(*, workspace) -> TerritoryPlan:
    """A new workspace starts with an (empty) active plan so that allocation works at once."""
    plan = TerritoryPlan.objects.filter(workspace=workspace, status=PlanStatus.ACTIVE).first()
    if plan is None:
        _lock_workspace_plans(workspace_id=workspace.pk)
        plan = TerritoryPlan.objects.filter(workspace=workspace, status=PlanStatus.ACTIVE).first()
    if plan is None:
        plan = TerritoryPlan.objects.create(
            workspace=workspace,
            name="Initial plan",
            status=PlanStatus.ACTIVE,
            activated_at=timezone.now(),
            effective_at=timezone.now(),
        )
    return plan


def plan_create(*, workspace, **data) -> TerritoryPlan:
    """A new plan is a draft: it routes nothing until it is activated."""
    return TerritoryPlan.objects.create(workspace=workspace, status=PlanStatus.DRAFT, **data)


@transaction.atomic
def plan_update(*, plan: TerritoryPlan, **data) -> TerritoryPlan:
    """Name and effective date: not what routes, so the version (matcher) stays. An
    archived plan is history: not even renamed."""
    if plan.status == PlanStatus.ARCHIVED:
        raise ConflictError(f"plan '{plan.name}' is archived: an archived plan is read-only")
    _refuse_scheduled(plan)
    for name, value in data.items():
        setattr(plan, name, value)
    plan.save(update_fields=[*data, "updated_at"])
    return plan


@transaction.atomic
def plan_activate(
    *,
    plan: TerritoryPlan,
    effective_at=None,
    actor: Actor = SYSTEM,
    scheduled: bool = False,
    reevaluation_queued: bool = False,
) -> TerritoryPlan:
    """Archives the active plan and activates this one, atomically: the one home of the
    switch (transitions.services orchestrates the job around it). Two activations in one
    workspace are serialised; one that finds the plans changed while it waited (the other
    activated first) is refused with 409 rather than silently replacing what it never saw.
    `scheduled=True`: the plan's scheduled time came (it must still be scheduled); otherwise
    it must be a draft and no other plan may be scheduled. A future `effective_at` is not an
    activation but a schedule (`plan_schedule`)."""
    now = timezone.now()
    if plan.status == PlanStatus.ACTIVE:
        raise ApplicationError("this plan is already active", field="status")
    if plan.status == PlanStatus.ARCHIVED:
        raise ApplicationError("an archived plan cannot be activated; clone it", field="status")
    if effective_at is not None and effective_at > now and not scheduled:
        raise ApplicationError(
            "a future effective date schedules the plan (plan_schedule); it is not activated now",
            field="effective_at",
        )
    before = _plan_audit_state(plan)
    seen_active_id = _active_plan_id(workspace_id=plan.workspace_id)
    _lock_workspace_plans(workspace_id=plan.workspace_id)
    current = TerritoryPlan.objects.filter(pk=plan.pk).first()
    if current is None:
        raise ConflictError("this plan was deleted by another request")
    expected = PlanStatus.SCHEDULED if scheduled else PlanStatus.DRAFT
    if current.status != expected:
        if current.status == PlanStatus.SCHEDULED:
            raise ConflictError(
                f"this plan is scheduled to activate at {current.effective_at.isoformat()}; "
                "unschedule it first to activate it now"
            )
        what = {PlanStatus.ACTIVE: "activated", PlanStatus.ARCHIVED: "archived"}.get(
            current.status, "unscheduled"
        )
        raise ConflictError(f"this plan was {what} by another request at the same time")
    if not scheduled and (other := _scheduled_plan(workspace_id=plan.workspace_id)):
        raise ConflictError(
            f"plan '{other.name}' is scheduled to activate at {other.effective_at.isoformat()}; "
            "unschedule it before activating another plan"
        )
    active_id = _active_plan_id(workspace_id=plan.workspace_id)
    if not scheduled and active_id != seen_active_id:
        winner = TerritoryPlan.objects.get(pk=active_id).name if active_id else "none"
        raise ConflictError(
            f"another plan ({winner}) was activated at the same time; review the plans, "
            "then activate this one again if it should replace it"
        )
    for old in TerritoryPlan.objects.filter(
        workspace_id=plan.workspace_id, status=PlanStatus.ACTIVE
    ):
        old.status = PlanStatus.ARCHIVED
        old.save(update_fields=["status", "updated_at"])
    current.status = PlanStatus.ACTIVE
    current.activated_at = now
    current.effective_at = (current.effective_at if scheduled else effective_at) or now
    current.save(update_fields=["status", "activated_at", "effective_at", "updated_at"])
    plan_touch(plan_id=current.pk, reevaluation_queued=reevaluation_queued)
    current.refresh_from_db()
    audit_record(
        workspace=current.workspace,
        actor=actor,
        action="activate",
        obj=current,
        before=before,
        after=_plan_audit_state(current),
    )
    return current


@transaction.atomic
def plan_schedule(*, plan: TerritoryPlan, effective_at, actor: Actor = SYSTEM) -> TerritoryPlan:
    """A draft set to activate at a future `effective_at`: read-only from now on (edits are
    refused with 409) until it activates or is unscheduled. One scheduled plan per workspace
    at a time, so what activates when is never ambiguous."""
    if effective_at is None or effective_at <= timezone.now():
        raise ApplicationError("a schedule needs a future effective date", field="effective_at")
    before = _plan_audit_state(plan)
    _lock_workspace_plans(workspace_id=plan.workspace_id)
    current = TerritoryPlan.objects.filter(pk=plan.pk).first()
    if current is None:
        raise ConflictError("this plan was deleted by another request")
    if current.status != PlanStatus.DRAFT:
        raise ConflictError(
            f"only a draft can be scheduled; this plan is {current.status}"
            + (" (unschedule it to change its date)" if current.status == "scheduled" else "")
        )
    if other := _scheduled_plan(workspace_id=plan.workspace_id, exclude_id=plan.pk):
        raise ConflictError(
            f"plan '{other.name}' is already scheduled to activate at "
            f"{other.effective_at.isoformat()}; unschedule it first"
        )
    current.status = PlanStatus.SCHEDULED
    current.effective_at = effective_at
    current.save(update_fields=["status", "effective_at", "updated_at"])
    audit_record(
        workspace=current.workspace,
        actor=actor,
        action="schedule",
        obj=current,
        before=before,
        after=_plan_audit_state(current),
    )
    return current


@transaction.atomic
def plan_unschedule(*, plan: TerritoryPlan, actor: Actor = SYSTEM) -> TerritoryPlan:
    """Back to an editable draft; 409 when it is not (or no longer) scheduled."""
    before = _plan_audit_state(plan)
    _lock_workspace_plans(workspace_id=plan.workspace_id)
    current = TerritoryPlan.objects.filter(pk=plan.pk).first()
    if current is None or current.status != PlanStatus.SCHEDULED:
        state = current.status if current else "deleted"
        raise ConflictError(f"this plan is not scheduled (it is {state})")
    current.status = PlanStatus.DRAFT
    current.effective_at = None
    current.save(update_fields=["status", "effective_at", "updated_at"])
    audit_record(
        workspace=current.workspace,
        actor=actor,
        action="unschedule",
        obj=current,
        before=before,
        after=_plan_audit_state(current),
    )
    return current


def _plan_audit_state(plan: TerritoryPlan) -> dict:
    """What an audit entry keeps of a plan (the API's serializer is no service's business)."""
    return {
        "id": plan.pk,
        "name": plan.name,
        "status": plan.status,
        "activated_at": plan.activated_at.isoformat() if plan.activated_at else None,
        "effective_at": plan.effective_at.isoformat() if plan.effective_at else None,
    }


@transaction.atomic
def plan_clone(
    *, plan: TerritoryPlan, name: str | None = None, actor: Actor = SYSTEM
) -> TerritoryPlan:
    """A draft copy with territories, parents, fallbacks, slots and locks."""
    clone = TerritoryPlan.objects.create(
        workspace_id=plan.workspace_id,
        name=name or f"{plan.name} (copy)",
        status=PlanStatus.DRAFT,
    )
    originals = list(Territory.objects.filter(plan=plan).order_by("id"))
    mapping: dict[int, Territory] = {}
    for original in originals:
        copy = Territory.objects.get(pk=original.pk)
        copy.pk = None
        copy.plan = clone
        copy.parent = None
        copy.fallback_territory = None
        copy.save()
        mapping[original.pk] = copy
    for original in originals:
        copy = mapping[original.pk]
        copy.parent = mapping.get(original.parent_id)
        copy.fallback_territory = mapping.get(original.fallback_territory_id)
        copy.save(update_fields=["parent", "fallback_territory"])
    TerritorySlot.objects.bulk_create(
        TerritorySlot(
            workspace_id=slot.workspace_id,
            territory=mapping[slot.territory_id],
            member_id=slot.member_id,
            role=slot.role,
            weight=slot.weight,
            position=slot.position,
            credit_percent=slot.credit_percent,
        )
        for slot in TerritorySlot.objects.filter(territory__plan=plan)
    )
    audit_record(
        workspace=clone.workspace,
        actor=actor,
        action="create",
        obj=clone,
        after={**_plan_audit_state(clone), "cloned_from": plan.pk},
    )
    return clone


def _check_tree(*, territory: Territory) -> None:
    """Parent and fallback chains stay in the plan and never loop, and the hierarchy is at
    most MAX_TREE_DEPTH deep. Called under the plan's lock, on the tree as committed now (not
    as loaded before waiting), so two simultaneous edits cannot each close half a cycle."""
    rows = Territory.objects.filter(plan_id=territory.plan_id).values_list(
        "pk", "parent_id", "fallback_territory_id"
    )
    parents = {pk: parent_id for pk, parent_id, _ in rows}
    fallbacks = {pk: fallback_id for pk, _, fallback_id in rows}
    parent_changed = territory.pk is None or parents.get(territory.pk) != territory.parent_id
    if territory.pk is not None:  # as it is about to be saved (nothing points to a new one)
        parents[territory.pk] = territory.parent_id
        fallbacks[territory.pk] = territory.fallback_territory_id
    for label, chains in (("parent", parents), ("fallback_territory", fallbacks)):
        target = getattr(territory, label)
        if target is None:
            continue
        if target.plan_id != territory.plan_id:
            raise ApplicationError("must be a territory of the same plan", field=label)
        if target.pk not in chains:
            raise ConflictError(f"this {label} was deleted by another request", field=label)
        if _loops(chains, target.pk if territory.pk is None else territory.pk):
            raise ApplicationError(f"this {label} would create a cycle", field=label)
    if parent_changed:
        depth = (
            1 + _chain_length(parents, territory.parent_id) + _subtree_height(parents, territory.pk)
        )
        if depth > MAX_TREE_DEPTH:
            raise ApplicationError(
                f"the hierarchy would be {depth} levels deep; the limit is {MAX_TREE_DEPTH}",
                field="parent",
            )


def _loops(chains: dict, start) -> bool:
    """Does following `chains` from `start` ever come back to a territory already passed?"""
    seen = set()
    cursor = start
    while cursor is not None:
        if cursor in seen:
            return True
        seen.add(cursor)
        cursor = chains.get(cursor)
    return False


def _chain_length(parents: dict, start) -> int:
    """Territories from `start` up to its root, both included; 0 for None (the chain is
    known not to loop)."""
    length, cursor = 0, start
    while cursor is not None:
        length += 1
        cursor = parents.get(cursor)
    return length


def _subtree_height(parents: dict, root) -> int:
    """Levels below `root` (0 for a leaf), breadth first; a new territory has none."""
    if root is None:
        return 0
    children: dict = {}
    for pk, parent_id in parents.items():
        if parent_id is not None:
            children.setdefault(parent_id, []).append(pk)
    height, level, seen = 0, [root], {root}
    while True:
        level = [c for pk in level for c in children.get(pk, ()) if c not in seen]
        if not level:
            return height
        seen.update(level)
        height += 1


def _write_slots(*, territory: Territory, slots: list[dict] | None) -> None:
    if slots is None:
        return
    # The instance may carry prefetched slots (API querysets do): they are stale after this.
    getattr(territory, "_prefetched_objects_cache", {}).pop("slots", None)
    TerritorySlot.objects.filter(territory=territory).delete()
    TerritorySlot.objects.bulk_create(
        TerritorySlot(
            workspace_id=territory.workspace_id,
            territory=territory,
            member=slot["member"],
            role=slot.get("role", "primary"),
            weight=slot.get("weight", 1),
            position=slot.get("position", index),
            credit_percent=slot.get("credit_percent", 0),
        )
        for index, slot in enumerate(slots)
    )


@transaction.atomic
def territory_create(
    *, workspace, slots: list[dict] | None = None, touch_plan: bool = True, **data
) -> Territory:
    """`touch_plan=False`: the caller bumps the version once for a batch (a CSV import)."""
    if data.get("plan") is None:
        data["plan"] = plan_ensure_active(workspace=workspace)
    plan = _lock_plan(plan_id=data["plan"].pk)
    if plan is None:
        raise ConflictError("this plan was deleted by another request", field="plan")
    _refuse_archived(plan)
    territory = Territory(workspace=workspace, **data)
    _check_tree(territory=territory)
    territory.save()
    _write_slots(territory=territory, slots=slots)
    if touch_plan:
        plan_touch(plan_id=territory.plan_id)
    return territory


@transaction.atomic
def territory_update(
    *, territory: Territory, slots: list[dict] | None = None, touch_plan: bool = True, **data
) -> Territory:
    if "plan" in data and data["plan"] != territory.plan:
        raise ApplicationError("a territory cannot move to another plan", field="plan")
    _refuse_archived(_lock_plan(plan_id=territory.plan_id))
    # What another edit committed while this one waited is kept, not overwritten.
    territory.refresh_from_db()
    for name, value in data.items():
        setattr(territory, name, value)
    if territory.pk and territory.parent_id == territory.pk:
        raise ApplicationError("a territory cannot be its own parent", field="parent")
    _check_tree(territory=territory)
    territory.save()
    _write_slots(territory=territory, slots=slots)
    if touch_plan:
        plan_touch(plan_id=territory.plan_id)
    return territory


def member_removed(*, member) -> None:
    """Before a member is deleted: its slots and the fallbacks naming it go with it, so the
    plans that had them change (a new version each)."""
    plan_ids = set(
        TerritorySlot.objects.filter(member=member).values_list("territory__plan_id", flat=True)
    ) | set(Territory.objects.filter(fallback_member=member).values_list("plan_id", flat=True))
    for plan_id in sorted(plan_ids):
        plan_touch(plan_id=plan_id)


def _allocations_referencing(*, territory_ids) -> int:
    """How many allocation history entries name one of these territories."""
    allocation = apps.get_model("allocation", "Allocation")
    return allocation.objects.filter(territory_id__in=territory_ids).count()


@transaction.atomic
def territory_delete(*, territory: Territory) -> None:
    """History is never rewritten: a territory that allocations reference, or one of an
    archived plan (kept as the record of what routed), is refused; deactivate it instead."""
    _refuse_archived(_lock_plan(plan_id=territory.plan_id))
    if count := _allocations_referencing(territory_ids=[territory.pk]):
        raise ConflictError(
            f"{count} allocation{'s' if count != 1 else ''} reference this territory; "
            "deactivate it instead"
        )
    if territory.children.exists():
        raise ApplicationError("delete or move its child territories first", field="parent")
    plan_id = territory.plan_id
    Territory.objects.filter(fallback_territory=territory).update(fallback_territory=None)
    territory.delete()
    plan_touch(plan_id=plan_id)


def _lock_plans_of(*, territory_ids) -> list[int]:
    """Locks the plans of these territories (in id order: no deadlock), as a territory delete
    does, so that an account lock is never written to a territory being deleted."""
    plan_ids = sorted(
        set(Territory.objects.filter(pk__in=territory_ids).values_list("plan_id", flat=True))
    )
    for plan_id in plan_ids:
        _refuse_archived(_lock_plan(plan_id=plan_id))
    return plan_ids


@transaction.atomic
def lock_create(*, workspace, **data) -> AccountLock:
    plan_ids = _lock_plans_of(territory_ids=[data["territory"].pk])
    lock = AccountLock.objects.create(workspace=workspace, **data)
    for plan_id in plan_ids:
        plan_touch(plan_id=plan_id)
    return lock


@transaction.atomic
def lock_update(*, lock: AccountLock, **data) -> AccountLock:
    """A lock moved to a territory of another plan changes both plans."""
    new_territory = data.get("territory", lock.territory)
    plan_ids = _lock_plans_of(territory_ids=[lock.territory_id, new_territory.pk])
    for name, value in data.items():
        setattr(lock, name, value)
    lock.save()
    for plan_id in plan_ids:
        plan_touch(plan_id=plan_id)
    return lock


@transaction.atomic
def lock_delete(*, lock: AccountLock) -> None:
    plan_ids = _lock_plans_of(territory_ids=[lock.territory_id])
    lock.delete()
    for plan_id in plan_ids:
        plan_touch(plan_id=plan_id)


@transaction.atomic
def plan_delete(*, plan: TerritoryPlan) -> None:
    """A draft plan goes with its whole tree (parents are protected against a lone delete, so
    the tree is flattened first). The active plan is never deleted; an archived one is kept
    as history, as is any plan whose territories allocations reference."""
    _lock_workspace_plans(workspace_id=plan.workspace_id)
    current = _lock_plan(plan_id=plan.pk)  # no territory is added while the tree goes
    if current is None:
        return
    if current.status == PlanStatus.ACTIVE:
        raise ApplicationError("the active plan cannot be deleted", field="status")
    if current.status == PlanStatus.ARCHIVED:
        raise ConflictError("an archived plan is kept as history; it cannot be deleted")
    _refuse_scheduled(current)
    territory_ids = list(Territory.objects.filter(plan=current).values_list("pk", flat=True))
    if count := _allocations_referencing(territory_ids=territory_ids):
        raise ConflictError(
            f"{count} allocation{'s' if count != 1 else ''} reference territories of this plan"
        )
    Territory.objects.filter(plan=current).update(parent=None)
    current.delete()


def _lock_values(lock: AccountLock) -> dict:
    return {"account": lock.account, "territory": lock.territory_id, "reason": lock.reason}


@transaction.atomic
def account_lock_create(*, workspace, actor, account: str, territory, reason="") -> AccountLock:
    """A manual lock (account → territory), audited; the plan's version moves, so every
    process's compiled matcher sees it at once. `account` is validated by the caller."""
    if territory.workspace_id != workspace.pk:
        raise ApplicationError("no such territory in this workspace", field="territory")
    lock = lock_create(workspace=workspace, account=account, territory=territory, reason=reason)
    audit_record(
        workspace=workspace, actor=actor, action="create", obj=lock, after=_lock_values(lock)
    )
    return lock


@transaction.atomic
def account_lock_delete(*, lock: AccountLock, actor) -> None:
    audit_record(
        workspace=lock.workspace,
        actor=actor,
        action="delete",
        obj=lock,
        before=_lock_values(lock),
    )
    lock_delete(lock=lock)
