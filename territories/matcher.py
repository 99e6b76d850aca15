"""Territory resolution for one plan: plain data in, decision out, no ORM.

`CompiledMatcher` turns every territory's effective rule (its rule AND its ancestors') into a
closure and indexes the conjuncts every match must satisfy — equality/`in` values in hash
maps, numeric ranges in precomputed stabbing tables — so that a record is checked only against
territories that can match it. `ReferenceMatcher` evaluates every rule in turn with
`territories.rules.evaluate`; both share the resolution order of DESIGN.md section 4.1.
"""

import bisect
import re
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Resolution:
    winner: TerritoryInfo | None
    step: str  # lock | named_account | territory | none
    candidates: tuple[TerritoryInfo, ...]
    conflicts: tuple[TerritoryInfo, ...]
    trace: tuple[dict, ...]
    plan_id: int | None
    plan_version: int | None


def normalize_account(value) -> str:
    """Domains and CRM account ids compare trimmed, lower-case, without scheme or www."""
    text = str(value).strip().lower()
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

    def order_key(self, territory_id: int):
        territory = self.by_id[territory_id]
        specificity = self.specificity[territory_id]
        return (-territory.priority, -territory.depth, -specificity, territory_id)

    def rule_candidates(self, fields: dict) -> list[int]:
        raise NotImplementedError

    def resolve(self, fields: dict) -> Resolution:
        trace: list[dict] = []
        for account in record_accounts(fields):
            lock = self.plan.locks.get(account)
            if lock and lock[0] in self.active:
                winner = self.by_id[lock[0]]
                detail = f"account {account} is locked to {winner.name}"
                trace.append(
                    {
                        "step": "lock",
                        "outcome": "matched",
                        "territory": winner.id,
                        "detail": f"{detail}: {lock[1]}" if lock[1] else detail,
                    }
                )
                return self._result(winner, "lock", [winner.id], trace)
        named_ids = sorted(
            {tid for account in record_accounts(fields) for tid in self.named.get(account, ())},
            key=self.order_key,
        )
        if named_ids:
            winner = self.by_id[named_ids[0]]
            trace.append(
                {
                    "step": "named_account",
                    "outcome": "matched",
                    "territory": winner.id,
                    "detail": f"named account of {winner.name}",
                }
            )
            return self._result(winner, "named_account", named_ids, trace)
        candidate_ids = sorted(self.rule_candidates(fields), key=self.order_key)
        if not candidate_ids:
            trace.append(
                {"step": "territory", "outcome": "no_match", "detail": "no territory matched"}
            )
            return Resolution(
                None, "none", (), (), tuple(trace), self.plan.plan_id, self.plan.version
            )
        winner = self.by_id[candidate_ids[0]]
        trace.append(
            {
                "step": "territory",
                "outcome": "matched",
                "territory": winner.id,
                "detail": self._why(winner),
            }
        )
        return self._result(winner, "territory", candidate_ids, trace)

    def _why(self, territory: TerritoryInfo) -> str:
        parts = [f"priority {territory.priority}", f"depth {territory.depth}"]
        geo = self.specificity[territory.id]
        if geo:
            parts.append(f"most specific geography: {GEO_NAMES[geo]}")
        return ", ".join(parts)

    def _result(self, winner, step, candidate_ids, trace) -> Resolution:
        candidates = tuple(self.by_id[tid] for tid in candidate_ids)
        conflicts = candidates[1:]
        for other in conflicts:
            trace.append(
                {
                    "step": "conflict",
                    "outcome": "lost",
                    "territory": other.id,
                    "detail": f"also matched: {other.name} ({self._why(other)})",
                }
            )
        return Resolution(
            winner,
            step,
            candidates,
            conflicts,
            tuple(trace),
            self.plan.plan_id,
            self.plan.version,
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
def compile_rule(rule):
    """A closure `fields -> bool` equivalent to `rules.evaluate(rule, fields)`."""
    if rule is None:
        return lambda fields: True
    if "all" in rule:
        children = tuple(compile_rule(child) for child in rule["all"])
        if len(children) == 1:
            return children[0]
        return lambda fields: all(child(fields) for child in children)
    if "any" in rule:
        children = tuple(compile_rule(child) for child in rule["any"])
        return lambda fields: any(child(fields) for child in children)
    if "not" in rule:
        child = compile_rule(rule["not"])
        return lambda fields: not child(fields)
    return _compile_condition(rule)


def _compile_condition(node):
    name, op = node["field"], node["op"]
    if op == "exists":
        return lambda fields: fields.get(name) is not None
    if op == "not_exists":
        return lambda fields: fields.get(name) is None
    expected = node["value"]
    if op in ("eq", "in", "ne", "not_in"):
        keys = frozenset(
            rules.value_key(item)
            for item in (expected if isinstance(expected, list) else [expected])
        )
        negate = op in ("ne", "not_in")

        def check(fields):
            actual = fields.get(name)
            if actual is None:
                return False
            if isinstance(actual, list):
                hit = any(rules.value_key(item) in keys for item in actual if item is not None)
            else:
                hit = rules.value_key(actual) in keys
            return hit != negate

        return check
    if op in ("gt", "gte", "lt", "lte", "between"):
        if op == "between":
            low, high = rules.number_of(expected[0]), rules.number_of(expected[1])
        else:
            bound = rules.number_of(expected)
            low = bound if op in ("gt", "gte") else float("-inf")
            high = bound if op in ("lt", "lte") else float("inf")
        open_low, open_high = op == "gt", op == "lt"

        def in_range(value):
            number = rules.number_of(value)
            if number is None:
                return False
            if number < low or number > high:
                return False
            return not ((open_low and number == low) or (open_high and number == high))

        def check_range(fields):
            actual = fields.get(name)
            if actual is None:
                return False
            if isinstance(actual, list):
                return any(in_range(item) for item in actual if item is not None)
            return in_range(actual)

        return check_range

    def check_other(fields):
        actual = fields.get(name)
        return actual is not None and rules.apply_operator(op, actual, expected)

    return check_other


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


class CompiledMatcher(_Base):
    """Built once per plan version (see `territories.selectors`), then read-only."""

    def __init__(self, plan: PlanData):
        super().__init__(plan)
        self.checks = {tid: compile_rule(self.effective[tid]) for tid in self.rule_ids}
        self.equality: dict[str, dict] = {}
        intervals: dict[str, list[tuple[float, float, int]]] = {}
        self.unindexed: list[int] = []
        for tid in self.rule_ids:
            key = self._index_key(self.effective[tid])
            if key is None:
                self.unindexed.append(tid)
            elif key[0] == "eq":
                _, name, values = key
                table = self.equality.setdefault(name, {})
                for value in values:
                    table.setdefault(value, []).append(tid)
            else:
                _, name, low, high = key
                intervals.setdefault(name, []).append((low, high, tid))
        self.ranges = {name: _RangeTable(items) for name, items in intervals.items()}

    @staticmethod
    def _index_key(rule):
        """The most selective conjunct to index on: an equality set, else a numeric range."""
        best = None
        for cond in _conjuncts(rule):
            op = cond.get("op")
            if op in ("eq", "in") and "value" in cond:
                values = cond["value"] if isinstance(cond["value"], list) else [cond["value"]]
                keys = frozenset(rules.value_key(v) for v in values)
                if best is None or best[0] != "eq" or len(keys) < len(best[2]):
                    best = ("eq", cond["field"], keys)
            elif op in ("between", "gte", "lte", "gt", "lt") and best is None:
                value = cond["value"]
                if op == "between":
                    low, high = rules.number_of(value[0]), rules.number_of(value[1])
                else:
                    bound = rules.number_of(value)
                    low = bound if op in ("gt", "gte") else float("-inf")
                    high = bound if op in ("lt", "lte") else float("inf")
                best = ("range", cond["field"], low, high)
        return best

    def rule_candidates(self, fields: dict) -> list[int]:
        seen: set[int] = set()
        for name, table in self.equality.items():
            actual = fields.get(name)
            if actual is None:
                continue
            for item in actual if isinstance(actual, list) else (actual,):
                if item is not None:
                    seen.update(table.get(rules.value_key(item), ()))
        for name, table in self.ranges.items():
            actual = fields.get(name)
            if actual is None:
                continue
            for item in actual if isinstance(actual, list) else (actual,):
                number = rules.number_of(item) if item is not None else None
                if number is not None:
                    seen.update(table.lookup(number))
        seen.update(self.unindexed)
        checks = self.checks
        return [tid for tid in seen if checks[tid](fields)]
