"""Territory resolution for one plan: plain data in, decision out, no ORM.

`CompiledMatcher` turns every territory's effective rule (its rule AND its ancestors') into a
closure and indexes the conjuncts every match must satisfy — equality/`in` values in hash
maps, numeric ranges in precomputed stabbing tables — so that a record is checked only against
territories that can match it. `ReferenceMatcher` evaluates every rule in turn with
`territories.rules.evaluate`; both share the resolution order of DESIGN.md section 4.1.
"""

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from . import rules

GEO_SPECIFICITY = {"postal_code": 5, "city": 4, "state": 3, "country": 2, "region": 1}
GEO_NAMES = {value: key for key, value in GEO_SPECIFICITY.items()}


@dataclass(frozen=True)
class SlotInfo:
    member_id: int
    role: str
    weight: int
    position: int


@dataclass(frozen=True)
class TerritoryInfo:
    id: int
    name: str
    priority: int = 0
    depth: int = 1
    parent_id: int | None = None
    kind: str = "custom"
    distribution: str = "round_robin"
    rule: dict | None = None
    member_rule: dict | None = None
    named_accounts: tuple[str, ...] = ()
    fallback_member_id: int | None = None
    fallback_territory_id: int | None = None
    is_active: bool = True
    slots: tuple[SlotInfo, ...] = ()


@dataclass(frozen=True)
class PlanData:
    plan_id: int
    version: int
    territories: tuple[TerritoryInfo, ...]
    locks: dict[str, tuple[int, str]] = field(default_factory=dict)  # account -> (id, reason)


@dataclass(eq=False)
class Resolution:
    """The outcome for one record. The human-readable trace is built on first access: bulk
    re-evaluation needs only winners, the allocation API needs every step."""

    winner: TerritoryInfo | None
    step: str  # lock | named_account | territory | none
    candidates: tuple[TerritoryInfo, ...]
    plan_id: int | None
    plan_version: int | None
    lock_reason: str = ""
    explain: Callable[[TerritoryInfo], str] | None = field(default=None, repr=False, compare=False)

    @property
    def conflicts(self) -> tuple[TerritoryInfo, ...]:
        return self.candidates[1:]

    @cached_property
    def trace(self) -> tuple[dict, ...]:
        winner = self.winner
        if winner is None:
            detail = "no active plan" if self.plan_id is None else "no territory matched"
            return ({"step": "territory", "outcome": "no_match", "detail": detail},)
        if self.step == "lock":
            detail = f"account is locked to {winner.name}"
            if self.lock_reason:
                detail = f"{detail}: {self.lock_reason}"
        elif self.step == "named_account":
            detail = f"named account of {winner.name}"
        else:
            detail = self.explain(winner)
        steps = [
            {"step": self.step, "outcome": "matched", "territory": winner.id, "detail": detail}
        ]
        steps.extend(
            {
                "step": "conflict",
                "outcome": "lost",
                "territory": other.id,
                "detail": f"also matched: {other.name} ({self.explain(other)})",
            }
            for other in self.conflicts
        )
        return tuple(steps)


def normalize_account(value) -> str:
    """Domains and CRM account ids compare trimmed, lower-case, without scheme or www."""
    text = str(value).strip().lower()
    if "/" not in text and not text.startswith("www."):
        return text
    text = re.sub(r"^[a-z]+://", "", text)
    text = text.removeprefix("www.")
    return text.split("/", 1)[0] if "." in text else text


def record_accounts(fields: dict) -> list[str]:
    return [
        normalize_account(fields[key])
        for key in ("domain", "account_id")
        if isinstance(fields.get(key), str | int) and str(fields[key]).strip()
    ]


# --- shared resolution ----------------------------------------------------------------------
class _Base:
    def __init__(self, plan: PlanData):
        self.plan = plan
        self.by_id = {t.id: t for t in plan.territories}
        self.active = {t.id for t in plan.territories if self._live(t)}
        self.effective = {t.id: self._effective_rule(t) for t in plan.territories}
        self.specificity = {tid: _geo_specificity(rule) for tid, rule in self.effective.items()}
        self.order = {t.id: self._order(t.id) for t in plan.territories}
        self.named: dict[str, list[int]] = {}
        for territory in plan.territories:
            if territory.id in self.active:
                for account in territory.named_accounts:
                    self.named.setdefault(normalize_account(account), []).append(territory.id)
        # Rule matching: every live territory that has a rule of its own or of an ancestor;
        # a root without a rule is a catch-all unless it is a named-account territory.
        self.rule_ids = [
            t.id
            for t in plan.territories
            if t.id in self.active and (self.effective[t.id] or t.kind != "named_account")
        ]

    def _live(self, territory: TerritoryInfo) -> bool:
        seen = set()
        cursor = territory
        while cursor is not None and cursor.id not in seen:
            if not cursor.is_active:
                return False
            seen.add(cursor.id)
            cursor = self.by_id.get(cursor.parent_id) if cursor.parent_id else None
        return True

    def _effective_rule(self, territory: TerritoryInfo) -> dict | None:
        chain = []
        seen = set()
        cursor = territory
        while cursor is not None and cursor.id not in seen:
            seen.add(cursor.id)
            if cursor.rule:
                chain.append(cursor.rule)
            cursor = self.by_id.get(cursor.parent_id) if cursor.parent_id else None
        if not chain:
            return None
        return chain[0] if len(chain) == 1 else {"all": list(reversed(chain))}

    def _order(self, territory_id: int):
        territory = self.by_id[territory_id]
        specificity = self.specificity[territory_id]
        return (-territory.priority, -territory.depth, -specificity, territory_id)

    def order_key(self, territory_id: int):
        return self.order[territory_id]

    def rule_candidates(self, fields: dict) -> list[int]:
        raise NotImplementedError

    def resolve(self, fields: dict) -> Resolution:
        has_accounts = self.named or self.plan.locks
        accounts = record_accounts(fields) if has_accounts else ()
        for account in accounts:
            lock = self.plan.locks.get(account)
            if lock and lock[0] in self.active:
                return self._result("lock", [lock[0]], lock_reason=lock[1])
        if accounts and self.named:
            named_ids = {tid for account in accounts for tid in self.named.get(account, ())}
            if named_ids:
                return self._result("named_account", sorted(named_ids, key=self.order_key))
        candidate_ids = self.rule_candidates(fields)
        if len(candidate_ids) > 1:
            candidate_ids.sort(key=self.order.__getitem__)
        return self._result("territory" if candidate_ids else "none", candidate_ids)

    def explain(self, territory: TerritoryInfo) -> str:
        parts = [f"priority {territory.priority}", f"depth {territory.depth}"]
        geo = self.specificity[territory.id]
        if geo:
            parts.append(f"most specific geography: {GEO_NAMES[geo]}")
        return ", ".join(parts)

    def _result(self, step, candidate_ids, lock_reason="") -> Resolution:
        by_id = self.by_id
        candidates = tuple(by_id[tid] for tid in candidate_ids)
        return Resolution(
            winner=candidates[0] if candidates else None,
            step=step,
            candidates=candidates,
            plan_id=self.plan.plan_id,
            plan_version=self.plan.version,
            lock_reason=lock_reason,
            explain=self.explain,
        )


def _geo_specificity(rule) -> int:
    if not rule:
        return 0
    if "all" in rule or "any" in rule:
        children = rule.get("all") or rule.get("any")
        return max((_geo_specificity(child) for child in children), default=0)
    if "not" in rule:
        return 0
    return GEO_SPECIFICITY.get(rule.get("field"), 0)


class ReferenceMatcher(_Base):
    """Checks every territory's effective rule: the spec read literally, O(territories)."""

    def rule_candidates(self, fields: dict) -> list[int]:
        return [tid for tid in self.rule_ids if rules.evaluate(self.effective[tid], fields)]


# --- compiled -------------------------------------------------------------------------------
class NormalizedFields(dict):
    """A field's comparable key (a tuple of keys for a list; None when absent), computed on
    first use and then shared by every condition and index level that reads it."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict):
        super().__init__()
        self.fields = fields

    def __missing__(self, name):
        value = self.fields.get(name)
        if value is None:
            key = None
        elif type(value) is list:
            key = tuple(rules.value_key(item) for item in value if item is not None)
        else:
            key = rules.value_key(value)
        self[name] = key
        return key


def normalize_fields(fields: dict) -> NormalizedFields:
    return NormalizedFields(fields)


def compile_rule(rule):
    """A closure `(fields, normalized fields) -> bool` equivalent to `rules.evaluate`."""
    if rule is None:
        return lambda fields, norm: True
    if "all" in rule:
        return _compile_all([compile_rule(child) for child in rule["all"]])
    if "any" in rule:
        children = tuple(compile_rule(child) for child in rule["any"])
        if len(children) == 2:
            first, second = children
            return lambda fields, norm: first(fields, norm) or second(fields, norm)
        return lambda fields, norm: any(child(fields, norm) for child in children)
    if "not" in rule:
        child = compile_rule(rule["not"])
        return lambda fields, norm: not child(fields, norm)
    return _compile_condition(rule)


def _compile_all(children: list):
    if not children:
        return lambda fields, norm: True
    if len(children) == 1:
        return children[0]
    if len(children) == 2:
        first, second = children
        return lambda fields, norm: first(fields, norm) and second(fields, norm)
    if len(children) == 3:
        first, second, third = children
        return lambda fields, norm: (
            first(fields, norm) and second(fields, norm) and third(fields, norm)
        )
    children = tuple(children)
    return lambda fields, norm: all(child(fields, norm) for child in children)


def _compile_condition(node):
    name, op = node["field"], node["op"]
    if op == "exists":
        return lambda fields, norm: fields.get(name) is not None
    if op == "not_exists":
        return lambda fields, norm: fields.get(name) is None
    expected = node["value"]
    if op in ("eq", "in", "ne", "not_in"):
        keys = frozenset(
            rules.value_key(item)
            for item in (expected if isinstance(expected, list) else [expected])
        )
        negate = op in ("ne", "not_in")

        def check(fields, norm):
            actual = norm[name]
            if actual is None:
                return False
            if type(actual) is tuple:
                return any(item in keys for item in actual) != negate
            return (actual in keys) != negate

        return check
    if op in ("gt", "gte", "lt", "lte", "between"):
        if op == "between":
            low, high = rules.number_of(expected[0]), rules.number_of(expected[1])
        else:
            bound = rules.number_of(expected)
            low = bound if op in ("gt", "gte") else float("-inf")
            high = bound if op in ("lt", "lte") else float("inf")
        open_low, open_high = op == "gt", op == "lt"

        def in_range(number):
            if type(number) is not float or number < low or number > high:
                return False
            return not ((open_low and number == low) or (open_high and number == high))

        def check_range(fields, norm):
            actual = norm[name]
            if actual is None:
                return False
            if type(actual) is tuple:
                return any(in_range(item) for item in actual)
            return in_range(actual)

        return check_range

    def check_other(fields, norm):
        actual = fields.get(name)
        return actual is not None and rules.apply_operator(op, actual, expected)

    return check_other


def _top_level(rule) -> list[dict]:
    """The rule as a flat list of nodes that must all hold."""
    if not rule:
        return []
    if "all" in rule:
        return [node for child in rule["all"] for node in _top_level(child)]
    return [rule]


def _conjuncts(rule) -> list[dict]:
    """The conditions that every match must satisfy (top-level ANDs, flattened)."""
    if not rule:
        return []
    if "all" in rule:
        return [cond for child in rule["all"] for cond in _conjuncts(child)]
    if "any" in rule or "not" in rule:
        return []
    return [rule]


class _RangeTable:
    """Stabbing queries on closed numeric intervals: bisect to the elementary segment, whose
    covering territories were precomputed."""

    def __init__(self, intervals: list[tuple[float, float, int]]):
        points = sorted({p for low, high, _ in intervals for p in (low, high)})
        self.points = points
        # segment 2i+1 is the point points[i]; segment 2i is the open gap before it.
        buckets: list[list[int]] = [[] for _ in range(2 * len(points) + 1)]
        for low, high, tid in intervals:
            start = 2 * bisect.bisect_left(points, low) + 1
            end = 2 * bisect.bisect_left(points, high) + 1
            for segment in range(start, end + 1):
                buckets[segment].append(tid)
        self.buckets = [tuple(bucket) for bucket in buckets]

    def lookup(self, number: float) -> tuple[int, ...]:
        index = bisect.bisect_left(self.points, number)
        if index < len(self.points) and self.points[index] == number:
            return self.buckets[2 * index + 1]
        return self.buckets[2 * index]


RANGE_OPS = ("between", "gte", "lte", "gt", "lt")


def _index_terms(rule) -> tuple[list, list]:
    """The equality sets and numeric ranges that every match of the rule must satisfy."""
    equalities, ranges = [], []
    for cond in _conjuncts(rule):
        op = cond.get("op")
        if "value" not in cond:
            continue
        value = cond["value"]
        if op in ("eq", "in"):
            values = value if isinstance(value, list) else [value]
            keys = frozenset(rules.value_key(v) for v in values)
            equalities.append((cond["field"], keys, id(cond)))
        elif op in RANGE_OPS:
            if op == "between":
                low, high = rules.number_of(value[0]), rules.number_of(value[1])
            else:
                bound = rules.number_of(value)
                low = bound if op in ("gt", "gte") else float("-inf")
                high = bound if op in ("lt", "lte") else float("inf")
            # Open bounds (gt/lt) are not exact in the closed-interval table: re-checked.
            exact = op not in ("gt", "lt")
            ranges.append((cond["field"], low, high, id(cond) if exact else None))
    return equalities, ranges


class _IndexNode:
    """A hash level on one equality term per territory; below it the same again on another
    field (up to MAX_DEPTH), so a record reaches only territories whose required values all
    match. Territories with no equality term left sit in a range table or in `rest`."""

    MAX_DEPTH = 3

    def __init__(
        self, entries, selectivity: dict[str, int], consumed: dict, depth=0, used=frozenset()
    ):
        self.rest: list[int] = []
        self.eq: dict[str, dict] = {}
        grouped: dict[str, dict] = {}
        intervals: dict[str, list] = {}
        for tid, equalities, ranges in entries:
            options = [term for term in equalities if term[0] not in used]
            if options and depth < self.MAX_DEPTH:
                name, keys, cond_id = max(
                    options, key=lambda term: (selectivity.get(term[0], 0) / len(term[1]))
                )
                consumed.setdefault(tid, set()).add(cond_id)
                for key in keys:
                    grouped.setdefault(name, {}).setdefault(key, []).append(
                        (tid, equalities, ranges)
                    )
            elif ranges:
                name, low, high, cond_id = ranges[0]
                if cond_id is not None:
                    consumed.setdefault(tid, set()).add(cond_id)
                intervals.setdefault(name, []).append((low, high, tid))
            else:
                self.rest.append(tid)
        for name, by_key in grouped.items():
            self.eq[name] = {
                key: _IndexNode(items, selectivity, consumed, depth + 1, used | {name})
                for key, items in by_key.items()
            }
        self.ranges = {name: _RangeTable(items) for name, items in intervals.items()}

    def collect(self, norm: dict, out: list) -> None:
        if self.rest:
            out.extend(self.rest)
        for name, table in self.eq.items():
            actual = norm[name]
            if actual is None:
                continue
            if type(actual) is tuple:
                for item in actual:
                    child = table.get(item)
                    if child is not None:
                        child.collect(norm, out)
            else:
                child = table.get(actual)
                if child is not None:
                    child.collect(norm, out)
        for name, table in self.ranges.items():
            actual = norm[name]
            if actual is None:
                continue
            for item in actual if type(actual) is tuple else (actual,):
                if type(item) is float:
                    out.extend(table.lookup(item))


class CompiledMatcher(_Base):
    """Built once per plan version (see `territories.selectors`), then read-only."""

    def __init__(self, plan: PlanData):
        super().__init__(plan)
        entries = [(tid, *_index_terms(self.effective[tid])) for tid in self.rule_ids]
        distinct: dict[str, set] = {}
        for _, equalities, _ in entries:
            for name, keys, _ in equalities:
                distinct.setdefault(name, set()).update(keys)
        selectivity = {name: len(keys) for name, keys in distinct.items()}
        consumed: dict[int, set[int]] = {}
        self.index = _IndexNode(entries, selectivity, consumed)
        # What the index already guaranteed on the way to a territory is not checked again.
        self.checks = {
            tid: _compile_all(
                [
                    compile_rule(node)
                    for node in _top_level(self.effective[tid])
                    if id(node) not in consumed.get(tid, ())
                ]
            )
            for tid in self.rule_ids
        }

    def rule_candidates(self, fields: dict) -> list[int]:
        norm = normalize_fields(fields)
        found: list[int] = []
        self.index.collect(norm, found)
        checks = self.checks
        if len(found) > 1:
            found = list(dict.fromkeys(found))
        return [tid for tid in found if checks[tid](fields, norm)]
