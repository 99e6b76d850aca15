"""One account's territory and owner under the active plan (DESIGN §7): plain data in,
plain data out, no ORM. Resolution is the territories matcher's; the pick is the allocation
engine's `allocation_decide`; what this adds is stickiness, the book as load and capacity,
and the orphaned/vacant flags."""

from dataclasses import dataclass, field, replace

from allocation.engine import (
    MemberState,
    RotationSnapshot,
    allocation_decide,
    member_unavailable_reason,
)
from territories import rules


@dataclass
class BookMember:
    """A member as the book sees it: the engine's state plus the accounts they own and the
    smallest `accounts` capacity on them (None: uncapped)."""

    state: MemberState
    owned: int = 0
    limit: int | None = None
    # Whether `owned` was counted and a pick reads it as the load (least_loaded pools);
    # otherwise the candidate's load stays 0 and need not change with every account.
    track_load: bool = True
    # (key, state) of the last `as_candidate`: a chunk asks for the same reps again and
    # again, and their state only changes when what a pick reads of their book does.
    _candidate: tuple | None = field(default=None, repr=False, compare=False)

    def as_candidate(self) -> MemberState:
        """For a new account: full when the book is at its cap; load = accounts owned."""
        full = None
        if self.limit is not None and self.owned >= self.limit:
            full = f"account capacity {self.owned}/{self.limit}"
        key = (full, self.owned if self.track_load else None)
        if self._candidate is not None and self._candidate[0] == key:
            return self._candidate[1]
        load = float(self.owned) if self.track_load else 0.0
        candidate = replace(self.state, capacity_full=full, load=load)
        self._candidate = (key, candidate)
        return candidate

    def keeps_account(self) -> bool:
        """For an account already owned: the book may sit at its cap, not above it."""
        return self.limit is None or self.owned <= self.limit


@dataclass
class Outcome:
    territory_id: int | None
    runner_up_id: int | None
    owner_id: int | None
    status: str  # assigned | orphaned | vacant
    entry_status: str  # the history entry's: assigned | fallback | unassigned
    trace: list
    overlays: list = field(default_factory=list)
    rotation_updates: dict = field(default_factory=dict)
    picked: bool = False  # distribution (or fallback) chose a new owner


def territory_chain(winner, by_id) -> list:
    """The winner and its fallback territories (what a pick may read and move)."""
    chain, seen, current = [], set(), winner
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        nxt = current.fallback_territory_id
        current = by_id.get(nxt) if nxt else None
    return chain


def _sticky_reason(member: BookMember | None, territory, fields) -> str | None:
    if member is None:
        return "not a member of the workspace"
    # Time off does not cost a rep their book: only new accounts go to someone else.
    reason = member_unavailable_reason(
        replace(member.state, capacity_full=None, absent=False),
        member_rule=territory.member_rule,
        fields=fields,
        evaluate=rules.evaluate,
    )
    if reason is None and not member.keeps_account():
        reason = f"account capacity {member.owned}/{member.limit}"
    return reason


def needs_pick(*, owner_id, resolution, members: dict[int, BookMember], fields) -> bool:
    """Whether the current owner cannot stay (so distribution must run): the cheap part of
    `account_decide`, used to know which territories to lock before deciding."""
    winner = resolution.winner
    if winner is None:
        return False
    return _sticky(owner_id, winner, members, fields) is None


def account_unchanged(
    *, owner_id, territory_id, runner_up_id, status, assigned: bool, resolution, members, fields
) -> bool:
    """Whether re-evaluation would leave this account exactly as it is: its territory and
    runner-up are the resolved ones and its owner stays (sticky, or orphaned). Cheap — no
    trace is built — so a rerun with nothing changed locks and writes nothing."""
    winner = resolution.winner
    runner_up = resolution.candidate_ids[1] if len(resolution.candidate_ids) > 1 else None
    if runner_up_id != runner_up:
        return False
    if winner is None:
        evaluated = assigned or owner_id is None
        return territory_id is None and status == "orphaned" and evaluated
    return (
        territory_id == winner.id
        and status == "assigned"
        and assigned
        and _sticky(owner_id, winner, members, fields) is not None
    )


def _sticky(owner_id, winner, members, fields) -> str | None:
    """The trace detail when the current owner stays, else None."""
    if owner_id is None:
        return None
    primaries = winner.pools["primary"][0]
    backups = winner.pools["backup"][0]
    if owner_id in primaries:
        if _sticky_reason(members.get(owner_id), winner, fields) is None:
            return f"current owner is an eligible primary of {winner.name}"
        return None
    if owner_id in backups and _sticky_reason(members.get(owner_id), winner, fields) is None:
        for primary in primaries:
            candidate = members.get(primary)
            if candidate is not None and (
                member_unavailable_reason(
                    candidate.as_candidate(),
                    member_rule=winner.member_rule,
                    fields=fields,
                    evaluate=rules.evaluate,
                )
                is None
            ):
                return None
        return f"current owner is an eligible backup of {winner.name} and no primary is"
    return None


def pick_reach(winner, by_id, default_member_id, reach: dict | None = None) -> tuple:
    """(ids of the winner's fallback chain, the members a pick can reach: the chain's slots,
    fallback members, the workspace default). `reach` memoises it per winner for callers
    that decide thousands of accounts under one plan."""
    if reach is not None and winner.id in reach:
        return reach[winner.id]
    chain = territory_chain(winner, by_id)
    ids = set()
    for territory in chain:
        ids.update(s.member_id for s in territory.slots)
        if territory.fallback_member_id:
            ids.add(territory.fallback_member_id)
    if default_member_id:
        ids.add(default_member_id)
    found = (frozenset(t.id for t in chain), tuple(ids))
    if reach is not None:
        reach[winner.id] = found
    return found


def _candidates(winner, by_id, members, default_member_id, reach) -> dict[int, MemberState]:
    """The engine's view of only the members a pick can reach, not of the whole workspace."""
    ids = pick_reach(winner, by_id, default_member_id, reach)[1]
    return {mid: members[mid].as_candidate() for mid in ids if mid in members}


def account_decide(
    *,
    owner_id: int | None,
    resolution,
    by_id: dict,
    members: dict[int, BookMember],
    rotations: dict[int, RotationSnapshot],
    fields: dict,
    default_member_id: int | None,
    reach: dict | None = None,
) -> Outcome:
    """`reach`: a `pick_reach` memo shared by the accounts decided under one plan."""
    winner = resolution.winner
    trace = list(resolution.trace)
    runner_up = resolution.candidate_ids[1] if len(resolution.candidate_ids) > 1 else None
    if winner is None:
        detail = "no territory: orphaned" + ("; current owner kept" if owner_id else "")
        trace.append({"step": "orphaned", "outcome": "flagged", "detail": detail})
        return Outcome(
            None, None, owner_id, "orphaned", "fallback" if owner_id else "unassigned", trace
        )
    overlays = list(winner.pools["overlay"][0])
    sticky = _sticky(owner_id, winner, members, fields)
    if sticky:
        trace.append({"step": "sticky", "member": owner_id, "outcome": "kept", "detail": sticky})
        return Outcome(winner.id, runner_up, owner_id, "assigned", "assigned", trace, overlays)
    decision = allocation_decide(
        territory=winner,
        territory_get=by_id.get,
        members=_candidates(winner, by_id, members, default_member_id, reach),
        rotations=rotations,
        fields=fields,
        default_member_id=default_member_id,
        evaluate=rules.evaluate,
        trace=trace,
    )
    vacant = decision.status != "assigned"
    if vacant and owner_id is not None:
        trace = [
            *decision.trace,
            {
                "step": "vacant",
                "member": owner_id,
                "outcome": "kept",
                "detail": f"no eligible owner in {winner.name}: current owner kept",
            },
        ]
        return Outcome(winner.id, runner_up, owner_id, "vacant", "fallback", trace, overlays)
    return Outcome(
        winner.id,
        runner_up,
        decision.owner_id,
        "vacant" if vacant else "assigned",
        decision.status,
        decision.trace,
        overlays,
        decision.rotation_updates,
        picked=decision.owner_id is not None,
    )
