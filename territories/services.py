"""Writes for territory plans, territories, slots and account locks.

Every change to a plan's contents bumps `TerritoryPlan.version` in the same transaction, which
is what invalidates the compiled matcher cached in each process.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from revorg.errors import ApplicationError
from revorg.services import audit_record

from .models import AccountLock, PlanStatus, Territory, TerritoryPlan, TerritorySlot


def plan_touch(*, plan_id: int) -> None:
    TerritoryPlan.objects.filter(pk=plan_id).update(version=F("version") + 1)


def plan_ensure_active(*, workspace) -> TerritoryPlan:
    """A new workspace starts with an (empty) active plan so that allocation works at once."""
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


@transaction.atomic
def plan_activate(*, plan: TerritoryPlan, effective_at=None) -> TerritoryPlan:
    """Archives the active plan and activates this one, atomically."""
    now = timezone.now()
    if plan.status == PlanStatus.ACTIVE:
        raise ApplicationError("this plan is already active", field="status")
    if plan.status == PlanStatus.ARCHIVED:
        raise ApplicationError("an archived plan cannot be activated; clone it", field="status")
    if effective_at is not None and effective_at > now:
        raise ApplicationError(
            "scheduled activation is not supported: activate the plan at its effective date",
            field="effective_at",
        )
    locked = list(
        TerritoryPlan.objects.select_for_update()
        .filter(workspace_id=plan.workspace_id, status=PlanStatus.ACTIVE)
        .exclude(pk=plan.pk)
    )
    for old in locked:
        old.status = PlanStatus.ARCHIVED
        old.save(update_fields=["status", "updated_at"])
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = now
    plan.effective_at = effective_at or now
    plan.version = F("version") + 1
    plan.save(update_fields=["status", "activated_at", "effective_at", "version", "updated_at"])
    plan.refresh_from_db()
    return plan


@transaction.atomic
def plan_clone(*, plan: TerritoryPlan, name: str | None = None) -> TerritoryPlan:
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
        )
        for slot in TerritorySlot.objects.filter(territory__plan=plan)
    )
    return clone


def _check_tree(*, territory: Territory) -> None:
    """Parent and fallback chains stay in the plan and never loop."""
    for attribute, label in (("parent", "parent"), ("fallback_territory", "fallback_territory")):
        target = getattr(territory, attribute)
        if target is None:
            continue
        if target.plan_id != territory.plan_id:
            raise ApplicationError("must be a territory of the same plan", field=label)
        seen = {territory.pk}
        cursor = target
        while cursor is not None:
            if cursor.pk in seen:
                raise ApplicationError(f"this {label} would create a cycle", field=label)
            seen.add(cursor.pk)
            cursor = getattr(cursor, attribute)


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
        )
        for index, slot in enumerate(slots)
    )


@transaction.atomic
def territory_create(*, workspace, slots: list[dict] | None = None, **data) -> Territory:
    if data.get("plan") is None:
        data["plan"] = plan_ensure_active(workspace=workspace)
    territory = Territory(workspace=workspace, **data)
    _check_tree(territory=territory)
    territory.save()
    _write_slots(territory=territory, slots=slots)
    plan_touch(plan_id=territory.plan_id)
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, slots: list[dict] | None = None, **data) -> Territory:
    if "plan" in data and data["plan"] != territory.plan:
        raise ApplicationError("a territory cannot move to another plan", field="plan")
    for name, value in data.items():
        setattr(territory, name, value)
    if territory.pk and territory.parent_id == territory.pk:
        raise ApplicationError("a territory cannot be its own parent", field="parent")
    _check_tree(territory=territory)
    territory.save()
    _write_slots(territory=territory, slots=slots)
    plan_touch(plan_id=territory.plan_id)
    return territory


@transaction.atomic
def territory_delete(*, territory: Territory) -> None:
    if territory.children.exists():
        raise ApplicationError("delete or move its child territories first", field="parent")
    plan_id = territory.plan_id
    Territory.objects.filter(fallback_territory=territory).update(fallback_territory=None)
    territory.delete()
    plan_touch(plan_id=plan_id)


def lock_changed(*, lock: AccountLock) -> None:
    plan_touch(plan_id=lock.territory.plan_id)


@transaction.atomic
def lock_create(*, workspace, **data) -> AccountLock:
    lock = AccountLock.objects.create(workspace=workspace, **data)
    plan_touch(plan_id=lock.territory.plan_id)
    return lock


@transaction.atomic
def lock_delete(*, lock: AccountLock) -> None:
    plan_id = lock.territory.plan_id
    lock.delete()
    plan_touch(plan_id=plan_id)


def plan_delete(*, plan: TerritoryPlan) -> None:
    """A draft or archived plan goes with its whole tree (parents are protected against a
    lone delete, so the tree is flattened first). The active plan is never deleted."""
    if plan.status == PlanStatus.ACTIVE:
        raise ApplicationError("the active plan cannot be deleted", field="status")
    Territory.objects.filter(plan=plan).update(parent=None)
    plan.delete()


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
