"""Rebalancing suggestions (DESIGN §8), as plain data in and out.

The input is a plan's book: per (territory, owner) cell the accounts (id, open pipeline)
and each territory's primaries, parent and rep count. A suggested move takes accounts of the
most loaded rep of a territory to a sibling territory (same parent) whose reps hold the
fewest: the moved accounts leave their owner (not a primary of the sibling) and are spread
over the sibling's primaries, least loaded first, as distribution would. A move is kept only
when it raises the balance score of accounts over the plan's primaries. Territories far
above the plan's median load per rep are flagged for a split, far below for a merge.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from .balance import balance_score

MAX_MOVES = 50
SPLIT_FACTOR = 2.0  # load per rep at least this many times the median: split
MERGE_FACTOR = 0.5  # at most this fraction of the median: merge


@dataclass
class TerritoryBook:
    id: int
    name: str
    parent_id: int | None
    primaries: list[int]
    # owner id (or None) -> (accounts, open pipeline) of the movable accounts
    cells: dict = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return sum(count for count, _ in self.cells.values())

    @property
    def pipeline(self) -> Decimal:
        return sum((pipeline for _, pipeline in self.cells.values()), Decimal(0))


def suggestion_id(plan_id, from_territory, member, to_territory, account_ids) -> str:
    text = f"{plan_id}:{from_territory}:{member}:{to_territory}:{','.join(map(str, account_ids))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _scores(books: dict, reps: list[int]) -> tuple:
    return (
        balance_score([books[m][0] for m in reps]),
        balance_score([books[m][1] for m in reps]),
    )


def moves_suggest(
    *, plan_id: int, territories: list[TerritoryBook], names: dict, fetch: Callable
) -> dict:
    """Greedy moves between siblings while each raises the accounts balance score.
    `fetch(territory id, owner id, count, taken ids)` gives the first `count` movable
    accounts of that cell not yet taken, as (account id, open pipeline), by account id."""
    reps = sorted({m for t in territories for m in t.primaries})
    books = {m: [0, Decimal(0)] for m in reps}
    for territory in territories:
        for owner, (count, pipeline) in territory.cells.items():
            if owner in books:
                books[owner][0] += count
                books[owner][1] += pipeline
    start = _scores(books, reps)
    taken = _Taken(fetch)
    moves = []
    siblings: dict = {}
    for territory in territories:
        if territory.primaries:
            siblings.setdefault(territory.parent_id, []).append(territory)
    for group in siblings.values():
        if len(group) < 2:
            continue
        while len(moves) < MAX_MOVES:
            move = _best_move(plan_id, group, books, reps, taken, names)
            if move is None:
                break
            moves.append(move)
    return {"balance": start, "moves": moves, "books": books}


class _Taken:
    """Accounts already given to a suggestion, per cell, and the fetch of the next ones."""

    def __init__(self, fetch: Callable):
        self.fetch = fetch
        self.ids: dict[tuple, list[int]] = {}

    def left(self, territory, owner) -> int:
        return territory.cells.get(owner, (0, 0))[0] - len(self.ids.get((territory.id, owner), ()))


def _best_move(plan_id, group, books, reps, taken, names) -> dict | None:
    before = _scores(books, reps)
    donors = sorted(
        ((books[m][0], t.id, m, t) for t in group for m in t.primaries if taken.left(t, m) > 0),
        key=lambda d: (-d[0], d[1], d[2]),
    )
    for _, _, donor, source in donors:
        targets = sorted(
            (t for t in group if t.id != source.id and donor not in t.primaries),
            key=lambda t: (sum(books[m][0] for m in t.primaries) / len(t.primaries), t.id),
        )
        for target in targets:
            move = _move_for(plan_id, source, donor, target, books, reps, taken, before, names)
            if move is not None:
                return move
    return None


def _move_for(plan_id, source, donor, target, books, reps, taken, before, names) -> dict | None:
    receivers = target.primaries
    lowest = min(books[m][0] for m in receivers)
    # Enough to bring the donor and the receivers toward each other, not past.
    count = (books[donor][0] - lowest) * len(receivers) // (len(receivers) + 1)
    count = min(count, taken.left(source, donor))
    if count <= 0:
        return None
    chosen = taken.fetch(source.id, donor, count, list(taken.ids.get((source.id, donor), ())))
    trial = {m: list(v) for m, v in books.items()}
    trial[donor][0] -= count
    trial[donor][1] -= sum((p for _, p in chosen), Decimal(0))
    for _, pipeline in chosen:  # distribution's least loaded first
        receiver = min(receivers, key=lambda m: (trial[m][0], m))
        trial[receiver][0] += 1
        trial[receiver][1] += pipeline
    after = _scores(trial, reps)
    if before[0] is None or after[0] is None or after[0] <= before[0]:
        return None
    books.update(trial)
    ids = [account_id for account_id, _ in chosen]
    taken.ids.setdefault((source.id, donor), []).extend(ids)
    return {
        "id": suggestion_id(plan_id, source.id, donor, target.id, ids),
        "from_territory": {"id": source.id, "name": source.name},
        "from_member": {"id": donor, "name": names.get(donor, f"#{donor}")},
        "to_territory": {"id": target.id, "name": target.name},
        "to_members": [{"id": m, "name": names.get(m, f"#{m}")} for m in receivers],
        "accounts": ids,
        "open_pipeline": f"{sum((p for _, p in chosen), Decimal(0)):.2f}",
        "effect": {
            "accounts": {"before": before[0], "after": after[0]},
            "pipeline": {"before": before[1], "after": after[1]},
        },
    }


def density_flags(territories: list[TerritoryBook]) -> tuple[list, list]:
    """(split candidates, merge candidates): load per primary rep against the plan's median,
    for accounts and for open pipeline."""
    loaded = [t for t in territories if t.primaries]
    if len(loaded) < 3:
        return [], []
    per_rep = {
        t.id: (t.accounts / len(t.primaries), float(t.pipeline) / len(t.primaries)) for t in loaded
    }
    mid_accounts = median(v[0] for v in per_rep.values())
    mid_pipeline = median(v[1] for v in per_rep.values())
    splits, merges = [], []
    for t in loaded:
        accounts, pipeline = per_rep[t.id]
        reasons = []
        if mid_accounts and accounts >= SPLIT_FACTOR * mid_accounts:
            reasons.append(f"{accounts:.0f} accounts per rep, median {mid_accounts:.0f}")
        if mid_pipeline and pipeline >= SPLIT_FACTOR * mid_pipeline:
            reasons.append(f"{pipeline:.0f} open pipeline per rep, median {mid_pipeline:.0f}")
        if reasons:
            splits.append((t, "; ".join(reasons)))
            continue
        if mid_accounts and accounts <= MERGE_FACTOR * mid_accounts:
            siblings = [s for s in loaded if s.parent_id == t.parent_id and s.id != t.id]
            partner = min(siblings, key=lambda s: (per_rep[s.id][0], s.id), default=None)
            merges.append(
                (t, f"{accounts:.0f} accounts per rep, median {mid_accounts:.0f}", partner)
            )
    return splits, merges


def split_proposal(values_by_field: dict[str, list[tuple[str, int]]]) -> dict:
    """The field whose values divide the accounts into the two most even halves, and the
    halves (values given to the lighter half, largest first)."""
    best = None
    for name, values in values_by_field.items():
        values = [(v, n) for v, n in values if v]
        if len(values) < 2:
            continue
        halves = [[[], 0], [[], 0]]
        for value, count in sorted(values, key=lambda vn: (-vn[1], vn[0])):
            lighter = min(halves, key=lambda h: h[1])
            lighter[0].append(value)
            lighter[1] += count
        gap = abs(halves[0][1] - halves[1][1])
        if best is None or gap < best[0]:
            best = (gap, name, halves)
    if best is None:
        return {"field": None, "groups": []}
    _, name, halves = best
    return {
        "field": name,
        "groups": [{"values": sorted(values), "accounts": count} for values, count in halves],
    }
