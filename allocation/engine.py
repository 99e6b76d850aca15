"""The allocation decision as plain data in, plain data out: no ORM, no clock, no I/O.

The service loads the state (territories, members, absences, capacity usage, rotation
pointers) under the territory's lock, calls `allocation_decide`, and persists the result."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MemberState:
    id: int
    name: str = ""
    is_active: bool = True
    absent: bool = False
    attributes: dict = field(default_factory=dict)
    # "daily capacity 10/10" when some applicable capacity is full, else None.
    capacity_full: str | None = None
    load: float = 0.0  # highest used/limit among applicable capacities
    last_allocated_at: datetime | None = None
    # Why the caller rules this member out for this record (e.g. "a previous owner of the
    # record" when an SLA breach moves it on), before any other check.
    excluded: str | None = None


@dataclass(frozen=True)
class RotationSnapshot:
    pointer_member_id: int | None = None
    current_weights: dict = field(default_factory=dict)  # str(member id) -> int


@dataclass
class Decision:
    status: str  # assigned | fallback | unassigned
    owner_id: int | None
    territory_id: int | None
    overlays: list[int]
    trace: list[dict]
    # territory id -> new RotationSnapshot, only for the territory that chose the owner.
    rotation_updates: dict[int, RotationSnapshot] = field(default_factory=dict)


def member_unavailable_reason(
    member: MemberState | None, *, member_rule, fields: dict, evaluate: Callable
) -> str | None:
    """Eligibility in DESIGN order: inactive, absent, member rule, capacity."""
    if member is None:
        return "member not found"
    if member.excluded:
        return member.excluded
    if not member.is_active:
        return "inactive"
    if member.absent:
        return "absent (time off)"
    if member_rule is not None and not evaluate(member_rule, fields, member.attributes):
        return "member eligibility rule not met"
    if member.capacity_full:
        return member.capacity_full
    return None


def round_robin_pick(order: Sequence[int], pointer: int | None, eligible: set[int]) -> int | None:
    """Strict rotation in slot order: the next eligible member after the last one chosen."""
    if not order:
        return None
    start = order.index(pointer) + 1 if pointer in order else 0
    for step in range(len(order)):
        candidate = order[(start + step) % len(order)]
        if candidate in eligible:
            return candidate
    return None


def weighted_pick(
    weights: dict[int, int], current: dict, eligible: set[int]
) -> tuple[int | None, dict]:
    """Smooth weighted round-robin (nginx): each eligible member gains its weight, the
    highest is chosen and loses the total. Ties go to slot order (dict order)."""
    new = {str(k): int(v) for k, v in current.items()}
    pool = [m for m in weights if m in eligible and weights[m] > 0]
    if not pool:
        return None, new
    total = 0
    best = None
    for member_id in pool:
        new[str(member_id)] = new.get(str(member_id), 0) + weights[member_id]
        total += weights[member_id]
        if best is None or new[str(member_id)] > new[str(best)]:
            best = member_id
    new[str(best)] -= total
    return best, new


def least_loaded_pick(members: list[MemberState]) -> int | None:
    """Lowest used/limit, then longest since the last allocation (never first), then order."""
    if not members:
        return None
    floor = datetime.min

    def key(item):
        index, m = item
        last = m.last_allocated_at.replace(tzinfo=None) if m.last_allocated_at else floor
        return (m.load, last, index)

    return min(enumerate(members), key=key)[1].id


def _distribute(territory, role: str, eligible_ids: list[int], rotation, members):
    """Pick among the eligible members of one pool (the territory's slots of `role`, in slot
    order) with the territory's method; returns (member, detail, update)."""
    eligible = set(eligible_ids)
    method = territory.distribution
    if method == "weighted":
        weights = {}
        for slot in territory.pools[role][1]:
            if slot.member_id in eligible and slot.member_id not in weights:
                weights[slot.member_id] = slot.weight
        chosen, current = weighted_pick(weights, rotation.current_weights, eligible)
        detail = f"weighted (weight {weights.get(chosen)} of {sum(weights.values())})"
        return chosen, detail, RotationSnapshot(chosen, current)
    if method == "least_loaded":
        order = [m for m in territory.pools[role][0] if m in eligible]
        chosen = least_loaded_pick([members[m] for m in order])
        return chosen, f"least_loaded (load {members[chosen].load:.2f})", None
    full_order = territory.rotation_order
    chosen = round_robin_pick(full_order, rotation.pointer_member_id, eligible)
    turn = full_order.index(chosen) + 1 if chosen in full_order else 0
    detail = f"round_robin turn {turn} of {len(full_order)}"
    return chosen, detail, RotationSnapshot(chosen, rotation.current_weights)


def _pool_pick(territory, *, members, rotations, fields, evaluate, trace):
    """Primaries first; backups only when no primary is available."""
    for role in ("primary", "backup"):
        ids = territory.pools[role][0]
        if not ids:
            continue
        eligible = []
        for member_id in ids:
            reason = member_unavailable_reason(
                members.get(member_id),
                member_rule=territory.member_rule,
                fields=fields,
                evaluate=evaluate,
            )
            if reason is None:
                eligible.append(member_id)
            else:
                trace.append(
                    {
                        "step": "eligibility",
                        "member": member_id,
                        "outcome": "excluded",
                        "detail": f"{role}: {reason}",
                    }
                )
        if eligible:
            rotation = rotations.get(territory.id, RotationSnapshot())
            chosen, detail, update = _distribute(territory, role, eligible, rotation, members)
            if role == "backup":
                detail = f"backup pool, {detail}"
            trace.append(
                {"step": "distribution", "member": chosen, "outcome": "chosen", "detail": detail}
            )
            return chosen, update
    return None, None


def allocation_decide(
    *,
    territory,
    territory_get: Callable[[int], object],
    members: dict[int, MemberState],
    rotations: dict[int, RotationSnapshot],
    fields: dict,
    default_member_id: int | None,
    evaluate: Callable,
    trace: list[dict] | None = None,
) -> Decision:
    """Pool → eligibility → distribution, then fallback member → fallback territory (chain) →
    workspace default → unassigned. A fallback owner must be eligible too (active, present,
    with capacity room); one that is not is skipped and recorded."""
    trace = list(trace or [])
    if territory is None:
        return _fallback_default(default_member_id, members, fields, evaluate, trace, None, [])
    overlays = list(territory.pools["overlay"][0])
    chosen, update = _pool_pick(
        territory,
        members=members,
        rotations=rotations,
        fields=fields,
        evaluate=evaluate,
        trace=trace,
    )
    if chosen is not None:
        updates = {territory.id: update} if update else {}
        return Decision("assigned", chosen, territory.id, overlays, trace, updates)
    seen = {territory.id}
    current = territory
    while current is not None:
        if current.fallback_member_id:
            reason = member_unavailable_reason(
                members.get(current.fallback_member_id),
                member_rule=None,
                fields=fields,
                evaluate=evaluate,
            )
            if reason is None:
                trace.append(
                    {
                        "step": "fallback",
                        "member": current.fallback_member_id,
                        "outcome": "chosen",
                        "detail": f"fallback member of {current.name}",
                    }
                )
                return Decision("fallback", current.fallback_member_id, current.id, overlays, trace)
            trace.append(
                {
                    "step": "fallback",
                    "member": current.fallback_member_id,
                    "outcome": "skipped",
                    "detail": f"fallback member of {current.name}: {reason}",
                }
            )
        next_id = current.fallback_territory_id
        if not next_id or next_id in seen:
            break
        seen.add(next_id)
        nxt = territory_get(next_id)
        if nxt is None or not nxt.is_active:
            trace.append(
                {
                    "step": "fallback",
                    "territory": next_id,
                    "outcome": "skipped",
                    "detail": "fallback territory missing or inactive",
                }
            )
            break
        trace.append(
            {
                "step": "fallback",
                "territory": nxt.id,
                "outcome": "followed",
                "detail": f"fallback territory {nxt.name}",
            }
        )
        chosen, update = _pool_pick(
            nxt,
            members=members,
            rotations=rotations,
            fields=fields,
            evaluate=evaluate,
            trace=trace,
        )
        if chosen is not None:
            updates = {nxt.id: update} if update else {}
            return Decision("fallback", chosen, nxt.id, overlays, trace, updates)
        current = nxt
    return _fallback_default(
        default_member_id, members, fields, evaluate, trace, territory.id, overlays
    )


def _fallback_default(default_member_id, members, fields, evaluate, trace, territory_id, overlays):
    if default_member_id:
        reason = member_unavailable_reason(
            members.get(default_member_id), member_rule=None, fields=fields, evaluate=evaluate
        )
        if reason is None:
            trace.append(
                {
                    "step": "fallback",
                    "member": default_member_id,
                    "outcome": "chosen",
                    "detail": "workspace default member",
                }
            )
            return Decision("fallback", default_member_id, territory_id, overlays, trace)
        trace.append(
            {
                "step": "fallback",
                "member": default_member_id,
                "outcome": "skipped",
                "detail": f"workspace default member: {reason}",
            }
        )
    trace.append({"step": "unassigned", "outcome": "queued", "detail": "no eligible owner"})
    return Decision("unassigned", None, territory_id, overlays, trace)
