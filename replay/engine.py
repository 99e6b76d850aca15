"""Replaying allocation history through a plan: plain data in, plain data out, no ORM.

The allocation engine (`allocation.engine.allocation_decide`) decides each record of the
window in time order, but the state it reads is simulated instead of loaded: rotation
pointers per territory kept in memory, capacity usage counted from the replayed allocations
inside each capacity's window (as of the record's time, in the member's zone), absences as
they were at the record's time. The whole state serialises to JSON (`ReplayState.dump`) so a
job can checkpoint it and resume after a killed worker."""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from allocation.engine import MemberState, RotationSnapshot, allocation_decide
from capacities.windows import capacity_window


class HistoryRow(NamedTuple):
    """One allocation entry as it really happened (a tuple: a replay makes 100,000s)."""

    id: int
    created_at: datetime
    record_type: str
    record_id: str
    fields: dict
    owner_id: int | None  # the real owner (None: it went unassigned)


@dataclass(frozen=True)
class ReplayMember:
    id: int
    name: str
    is_active: bool = True
    timezone: str = "UTC"
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReplayCapacity:
    """A capacity counted over allocations (open-deal and book capacities are not replayed:
    see `replay.services`)."""

    id: int
    member_id: int
    limit: int
    period: str  # day | week | month | rolling
    window_hours: int | None = None
    record_types: tuple[str, ...] = ()

    def applies_to(self, record_type: str) -> bool:
        return not self.record_types or record_type in self.record_types


class Outcome(NamedTuple):
    """What the plan would have done with one history row."""

    row: HistoryRow
    status: str  # assigned | fallback | unassigned
    owner_id: int | None
    territory_id: int | None

    @property
    def moved(self) -> bool:
        return self.owner_id != self.row.owner_id


class _Window:
    """Usage of one calendar capacity: the window it counts in and the replayed count."""

    __slots__ = ("count", "end", "start")

    def __init__(self, start: datetime, end: datetime, count: int = 0):
        self.start, self.end, self.count = start, end, count


@dataclass
class ReplayState:
    """Everything the replay carries from one row to the next; JSON-serialisable."""

    pointers: dict[int, RotationSnapshot] = field(default_factory=dict)
    windows: dict[int, _Window] = field(default_factory=dict)  # calendar capacities
    # Rolling capacities keep the times of their last `limit` allocations: the window is
    # full exactly when the oldest of them is still inside it.
    rolling: dict[int, deque] = field(default_factory=dict)
    last_allocated: dict[int, datetime] = field(default_factory=dict)
    actual: dict[int, int] = field(default_factory=dict)  # member id -> rows really owned
    replayed: dict[int, int] = field(default_factory=dict)  # member id -> rows replayed to
    actual_unassigned: int = 0
    replayed_unassigned: int = 0
    rows: int = 0
    moved: int = 0
    # Where the replay stands in the history: (created_at, id) of the last row done.
    position: tuple[datetime, int] | None = None

    def dump(self) -> dict:
        return {
            "pointers": {
                str(tid): [s.pointer_member_id, s.current_weights]
                for tid, s in self.pointers.items()
            },
            "windows": {
                str(cid): [w.start.isoformat(), w.end.isoformat(), w.count]
                for cid, w in self.windows.items()
            },
            "rolling": {
                str(cid): [t.isoformat() for t in times] for cid, times in self.rolling.items()
            },
            "last_allocated": {str(m): t.isoformat() for m, t in self.last_allocated.items()},
            "actual": {str(m): n for m, n in self.actual.items()},
            "replayed": {str(m): n for m, n in self.replayed.items()},
            "actual_unassigned": self.actual_unassigned,
            "replayed_unassigned": self.replayed_unassigned,
            "rows": self.rows,
            "moved": self.moved,
            "position": [self.position[0].isoformat(), self.position[1]] if self.position else None,
        }

    @classmethod
    def load(cls, data: dict, *, capacities: dict[int, ReplayCapacity]) -> "ReplayState":
        parse = datetime.fromisoformat

        def rolling(cid, times):
            limit = capacities[int(cid)].limit if int(cid) in capacities else None
            return deque((parse(t) for t in times), maxlen=limit)

        position = data.get("position")
        return cls(
            pointers={
                int(tid): RotationSnapshot(pointer, weights or {})
                for tid, (pointer, weights) in data.get("pointers", {}).items()
            },
            windows={
                int(cid): _Window(parse(start), parse(end), count)
                for cid, (start, end, count) in data.get("windows", {}).items()
            },
            rolling={int(c): rolling(c, times) for c, times in data.get("rolling", {}).items()},
            last_allocated={int(m): parse(t) for m, t in data.get("last_allocated", {}).items()},
            actual={int(m): n for m, n in data.get("actual", {}).items()},
            replayed={int(m): n for m, n in data.get("replayed", {}).items()},
            actual_unassigned=data.get("actual_unassigned", 0),
            replayed_unassigned=data.get("replayed_unassigned", 0),
            rows=data.get("rows", 0),
            moved=data.get("moved", 0),
            position=(parse(position[0]), position[1]) if position else None,
        )


class Replayer:
    """Replays rows one after another against one compiled plan.

    `matcher` is the plan's `territories.matching.CompiledMatcher`; `absences` maps a member
    to its [start, end) intervals; `default_member_id` is the workspace's fallback member."""

    def __init__(
        self,
        *,
        matcher,
        members: dict[int, ReplayMember],
        capacities: list[ReplayCapacity],
        absences: dict[int, list[tuple[datetime, datetime]]],
        default_member_id: int | None,
        evaluate,
        state: ReplayState,
    ):
        self.matcher = matcher
        self.members = members
        self.capacities_of: dict[int, list[ReplayCapacity]] = {}
        for cap in capacities:
            self.capacities_of.setdefault(cap.member_id, []).append(cap)
        self.absences = absences
        self.default_member_id = default_member_id
        self.evaluate = evaluate
        self.state = state
        self._pools: dict[int | None, tuple[list[int], bool]] = {}
        self._static: dict[int, MemberState] = {}

    # --- the simulated state the engine reads -------------------------------------------

    def _pool(self, territory) -> tuple[list[int], bool]:
        """The members a decision in this territory may read (its fallback chain's slots and
        fallback members, the workspace default) and whether least_loaded is in play."""
        key = territory.id if territory is not None else None
        cached = self._pools.get(key)
        if cached is not None:
            return cached
        ids: dict[int, None] = {}
        least_loaded = False
        seen: set[int] = set()
        current = territory
        while current is not None and current.id not in seen:
            seen.add(current.id)
            least_loaded = least_loaded or current.distribution == "least_loaded"
            ids.update(dict.fromkeys(s.member_id for s in current.slots))
            if current.fallback_member_id:
                ids[current.fallback_member_id] = None
            nxt = current.fallback_territory_id
            current = self.matcher.by_id.get(nxt) if nxt else None
        if self.default_member_id:
            ids[self.default_member_id] = None
        pool = ([m for m in ids if m in self.members], least_loaded)
        self._pools[key] = pool
        return pool

    def _absent(self, member_id: int, at: datetime) -> bool:
        return any(start <= at < end for start, end in self.absences.get(member_id, ()))

    def _usage(self, cap: ReplayCapacity, at: datetime) -> int:
        if cap.period == "rolling":
            since = at - timedelta(hours=cap.window_hours or 24)
            return sum(1 for t in self.state.rolling.get(cap.id, ()) if t >= since)
        window = self.state.windows.get(cap.id)
        if window is None or not window.start <= at < window.end:
            return 0
        return window.count

    def _count(self, cap: ReplayCapacity, at: datetime) -> None:
        if cap.period == "rolling":
            times = self.state.rolling.get(cap.id)
            if times is None:
                times = self.state.rolling[cap.id] = deque(maxlen=cap.limit)
            times.append(at)
            return
        window = self.state.windows.get(cap.id)
        if window is None or not window.start <= at < window.end:
            member = self.members.get(cap.member_id)
            start, end = capacity_window(
                period=cap.period, now=at, tz_name=member.timezone if member else "UTC"
            )
            window = self.state.windows[cap.id] = _Window(start, end)
        window.count += 1

    def _member_state(self, member: ReplayMember, record_type: str, at: datetime, need_last):
        if not need_last and member.id not in self.capacities_of and member.id not in self.absences:
            # Nothing about this member changes with time: one state for the whole replay.
            static = self._static.get(member.id)
            if static is None:
                static = self._static[member.id] = MemberState(
                    id=member.id,
                    name=member.name,
                    is_active=member.is_active,
                    attributes=member.attributes,
                )
            return static
        full, load = None, 0.0
        for cap in self.capacities_of.get(member.id, ()):
            if not cap.applies_to(record_type):
                continue
            used = self._usage(cap, at)
            load = max(load, used / cap.limit if cap.limit else 1.0)
            if used >= cap.limit and full is None:
                full = f"{cap.period} capacity {used}/{cap.limit}"
        return MemberState(
            id=member.id,
            name=member.name,
            is_active=member.is_active,
            absent=self._absent(member.id, at),
            attributes=member.attributes,
            capacity_full=full,
            load=load,
            last_allocated_at=self.state.last_allocated.get(member.id) if need_last else None,
        )

    # --- one row ---------------------------------------------------------------------------

    def replay(self, row: HistoryRow) -> Outcome:
        """Decides the row through the plan and moves the simulated state on."""
        state = self.state
        at = row.created_at
        territory = self.matcher.resolve(row.fields).winner
        member_ids, least_loaded = self._pool(territory)
        members = {
            m: self._member_state(self.members[m], row.record_type, at, least_loaded)
            for m in member_ids
        }
        decision = allocation_decide(
            territory=territory,
            territory_get=self.matcher.by_id.get,
            members=members,
            rotations=state.pointers,
            fields=row.fields,
            default_member_id=self.default_member_id,
            evaluate=self.evaluate,
        )
        state.pointers.update(decision.rotation_updates)
        owner = decision.owner_id
        if owner is not None:
            for cap in self.capacities_of.get(owner, ()):
                if cap.applies_to(row.record_type):
                    self._count(cap, at)
            state.last_allocated[owner] = at
            state.replayed[owner] = state.replayed.get(owner, 0) + 1
        else:
            state.replayed_unassigned += 1
        if row.owner_id is not None:
            state.actual[row.owner_id] = state.actual.get(row.owner_id, 0) + 1
        else:
            state.actual_unassigned += 1
        outcome = Outcome(row, decision.status, owner, decision.territory_id)
        state.rows += 1
        state.moved += outcome.moved
        state.position = (at, row.id)
        return outcome


def fairness(counts: dict[int, int], member_ids) -> dict:
    """Shares of the allocated rows among `member_ids` (zeros included): the largest and
    smallest share and the coefficient of variation (population standard deviation / mean)."""
    values = [counts.get(m, 0) for m in member_ids]
    total = sum(values)
    if not values or not total:
        return {"max_share": None, "min_share": None, "cv": None}
    mean = total / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    return {
        "max_share": round(max(values) / total, 4),
        "min_share": round(min(values) / total, 4),
        "cv": round(variance**0.5 / mean, 4),
    }
