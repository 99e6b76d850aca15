"""Territory resolution for one plan: plain data in, decision out, no ORM.

`CompiledMatcher` turns every territory's effective rule (its rule AND its ancestors') into a
closure and indexes the conjuncts every match must satisfy — equality/`in` values in hash
maps, numeric ranges in precomputed stabbing tables — so that a record is checked only against
territories that can match it. `ReferenceMatcher` evaluates every rule in turn with
`territories.rules.evaluate`; both share the resolution order of DESIGN.md section 4.1.
"""

import bisect
import builtins
import re
import types
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

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


class Resolution:
    """The outcome for one record: cheap to make, because bulk re-evaluation reads only the
    winner; territories, conflicts and the human-readable trace are built when read."""

    __slots__ = ("_matcher", "_trace", "candidate_ids", "lock_reason", "step")

    def __init__(self, step: str, candidate_ids=(), matcher=None, lock_reason: str = ""):
        self.step = step  # lock | named_account | territory | none
        self.candidate_ids = candidate_ids  # in resolution order: the winner first
        self._matcher = matcher
        self.lock_reason = lock_reason
        self._trace = None

    def __repr__(self) -> str:
        return f"Resolution(step={self.step!r}, candidates={list(self.candidate_ids)})"

    @property
    def winner(self) -> TerritoryInfo | None:
        return self._matcher.by_id[self.candidate_ids[0]] if self.candidate_ids else None

    @property
    def candidates(self) -> tuple[TerritoryInfo, ...]:
        return tuple(self._matcher.by_id[tid] for tid in self.candidate_ids)

    @property
    def conflicts(self) -> tuple[TerritoryInfo, ...]:
        return self.candidates[1:]

    @property
    def plan_id(self) -> int | None:
        return self._matcher.plan_id if self._matcher else None

    @property
    def plan_version(self) -> int | None:
        return self._matcher.version if self._matcher else None

    def explain(self, territory: TerritoryInfo) -> str:
        return self._matcher.explain(territory)

    @property
    def trace(self) -> tuple[dict, ...]:
        if self._trace is None:
            self._trace = self._build_trace()
        return self._trace

    def _build_trace(self) -> tuple[dict, ...]:
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
    accounts = []
    for key in ACCOUNT_FIELDS:
        value = fields.get(key)
        if type(value) is str:
            account = value.strip().lower()
            if "/" in account or account.startswith("www."):
                account = normalize_account(account)
        elif isinstance(value, int):
            account = normalize_account(value)
        else:
            continue
        if account:
            accounts.append(account)
    return accounts


ACCOUNT_FIELDS = ("domain", "account_id")


# --- shared resolution ----------------------------------------------------------------------
class _Base:
    def __init__(self, plan: PlanData):
        self.plan = plan
        self.by_id = {t.id: t for t in plan.territories}
        self.active = {t.id for t in plan.territories if self._live(t)}
        self.effective = {t.id: self._effective_rule(t) for t in plan.territories}
        self.specificity = {tid: _geo_specificity(rule) for tid, rule in self.effective.items()}
        order = {t.id: self._order(t.id) for t in plan.territories}
        # One integer per territory in resolution order: sorting candidates compares ints.
        self.rank = {tid: rank for rank, tid in enumerate(sorted(order, key=order.get))}
        self.locks = plan.locks
        self.plan_id, self.version = plan.plan_id, plan.version
        self.named: dict[str, list[int]] = {}
        for territory in plan.territories:
            if territory.id in self.active:
                for account in territory.named_accounts:
                    self.named.setdefault(normalize_account(account), []).append(territory.id)
        # Most records name no known account: one set test rules them out.
        self.known_accounts = frozenset(self.named) | frozenset(self.locks)
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

    def rule_candidates(self, fields: dict) -> list[int]:
        raise NotImplementedError

    def resolve(self, fields: dict) -> Resolution:
        if self.known_accounts:
            resolution = self._account_resolution(fields)
            if resolution is not None:
                return resolution
        candidate_ids = self.rule_candidates(fields)
        return Resolution("territory" if candidate_ids else "none", candidate_ids, self)

    def _account_resolution(self, fields: dict) -> Resolution | None:
        """An account lock, else named-account territories, else None (rules decide)."""
        accounts = record_accounts(fields)
        if not accounts or self.known_accounts.isdisjoint(accounts):
            return None
        for account in accounts:
            lock = self.locks.get(account)
            if lock and lock[0] in self.active:
                return Resolution("lock", (lock[0],), self, lock[1])
        named_ids = {tid for account in accounts for tid in self.named.get(account, ())}
        if named_ids:
            return Resolution("named_account", sorted(named_ids, key=self.rank.__getitem__), self)
        return None

    def winners(self, records) -> list[int | None]:
        """The winning territory id of each record (None: unmatched)."""
        return [
            ids[0] if (ids := self.resolve(fields).candidate_ids) else None for fields in records
        ]

    def explain(self, territory: TerritoryInfo) -> str:
        parts = [f"priority {territory.priority}", f"depth {territory.depth}"]
        geo = self.specificity[territory.id]
        if geo:
            parts.append(f"most specific geography: {GEO_NAMES[geo]}")
        return ", ".join(parts)


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
        """Candidate ids in resolution order."""
        matched = [tid for tid in self.rule_ids if rules.evaluate(self.effective[tid], fields)]
        return sorted(matched, key=self.rank.__getitem__)


# --- compiled -------------------------------------------------------------------------------
value_key = rules.value_key
_string_key = rules._string_key


@lru_cache(maxsize=65536)
def _text_key(value: str) -> str:
    return value.strip().casefold()


def compile_rule(rule):
    """A closure `fields -> bool` equivalent to `rules.evaluate`."""
    if rule is None:
        return _always
    if "all" in rule:
        return _compile_all([compile_rule(child) for child in rule["all"]])
    if "any" in rule:
        children = tuple(compile_rule(child) for child in rule["any"])
        if len(children) == 1:
            return children[0]
        if len(children) == 2:
            first, second = children
            return lambda fields: first(fields) or second(fields)
        return lambda fields: any(child(fields) for child in children)
    if "not" in rule:
        child = compile_rule(rule["not"])
        return lambda fields: not child(fields)
    return _compile_condition(rule)


def _always(fields) -> bool:
    return True


def _compile_all(children: list):
    if not children:
        return _always
    if len(children) == 1:
        return children[0]
    if len(children) == 2:
        first, second = children
        return lambda fields: first(fields) and second(fields)
    if len(children) == 3:
        first, second, third = children
        return lambda fields: (first(fields) and second(fields) and third(fields))
    children = tuple(children)
    return lambda fields: all(child(fields) for child in children)


def _compile_condition(node):
    name, op = node["field"], node["op"]
    if op == "exists":
        return lambda fields: fields.get(name) is not None
    if op == "not_exists":
        return lambda fields: fields.get(name) is None
    expected = node["value"]
    if op in ("eq", "in", "ne", "not_in"):
        return _compile_membership(name, expected, negate=op in ("ne", "not_in"))
    if op in RANGE_OPS:
        return _compile_range(name, op, expected)
    if op in ("starts_with", "ends_with", "contains", "not_contains") and not isinstance(
        expected, list
    ):
        return _compile_text(name, op, expected)
    if op == "matches":
        return _compile_matches(name, expected)

    def check_other(fields):
        actual = fields.get(name)
        return actual is not None and rules.apply_operator(op, actual, expected)

    return check_other


def _key(value):
    """The comparable key of a record value: a tuple of keys for a list, None when absent."""
    if type(value) is str:
        return _string_key(value)
    if type(value) is list:
        return tuple(value_key(item) for item in value if item is not None)
    return None if value is None else value_key(value)


def _compile_membership(name, expected, negate):
    keys = frozenset(
        value_key(item) for item in (expected if isinstance(expected, list) else [expected])
    )

    def check(fields):
        actual = _key(fields.get(name))
        if actual is None:
            return False
        if type(actual) is tuple:
            return any(item in keys for item in actual) != negate
        return (actual in keys) != negate

    return check


def _compile_range(name, op, expected):
    low, high = _bounds(op, expected)
    open_low, open_high = op == "gt", op == "lt"

    def in_range(number):
        if type(number) is not float or number < low or number > high:
            return False
        return not ((open_low and number == low) or (open_high and number == high))

    def check_range(fields):
        actual = _key(fields.get(name))
        if type(actual) is tuple:
            return any(in_range(item) for item in actual)
        return in_range(actual)

    return check_range


def _compile_text(name, op, expected):
    """Text operators on a string field compare trimmed, casefolded text (cached per value);
    anything else (lists, numbers, booleans) goes through the reference operator."""
    needle = rules.text_of(expected)
    negate = op == "not_contains"
    if op == "starts_with":
        test = lambda text: text.startswith(needle)  # noqa: E731
    elif op == "ends_with":
        test = lambda text: text.endswith(needle)  # noqa: E731
    else:
        test = lambda text: needle in text  # noqa: E731

    def check_text(fields):
        actual = fields.get(name)
        if type(actual) is str:
            return test(_text_key(actual)) != negate
        return actual is not None and rules.apply_operator(op, actual, expected)

    return check_text


def _compile_matches(name, pattern):
    """`matches` with the pattern compiled once per plan by RE2 (linear time in the input, see
    `rules.compile_regex`); lists and non-strings go through the reference operator."""
    found = rules.regex_searcher(pattern)
    if found is None:  # a stored pattern RE2 cannot run matches nothing
        return lambda fields: False
    limit = rules.MAX_MATCH_INPUT

    def check_matches(fields):
        actual = fields.get(name)
        if type(actual) is str:
            return found(actual[:limit])
        return actual is not None and rules.apply_operator("matches", actual, pattern)

    return check_matches


def _bounds(op, expected) -> tuple[float, float]:
    if op == "between":
        return rules.number_of(expected[0]), rules.number_of(expected[1])
    bound = rules.number_of(expected)
    low = bound if op in ("gt", "gte") else float("-inf")
    high = bound if op in ("lt", "lte") else float("inf")
    return low, high


def _top_level(rule) -> list[dict]:
    """The rule as a flat list of nodes that must all hold."""
    if not rule:
        return []
    if "all" in rule:
        return [node for child in rule["all"] for node in _top_level(child)]
    return [rule]


RANGE_OPS = ("between", "gte", "lte", "gt", "lt")
EQ, RANGE, PREFIX = "eq", "range", "prefix"


def _dimension_of(node) -> str | None:
    """Which index dimension can decide this condition exactly, if any."""
    op = node.get("op")
    if op in ("eq", "in"):
        return EQ
    if op in RANGE_OPS:
        return RANGE
    if op == "starts_with" and not isinstance(node.get("value"), list):
        return PREFIX
    return None


class _Dimension:
    """One (field, kind) of the index: for a record's value, the bitmask of territories whose
    condition of this kind on this field holds, OR-ed with those that have no such condition
    (`default`). Bits are territories in resolution order."""

    __slots__ = ("default", "field", "kind", "lengths", "points", "segments", "table")

    def __init__(self, field: str, kind: str):
        self.field, self.kind = field, kind
        self.default = 0
        self.table: dict = {}
        self.lengths: tuple[int, ...] = ()
        self.points: list[float] = []
        self.segments: list[int] = []

    def build(self, conditions: list[tuple[int, dict]], unconstrained: int) -> None:
        self.default = unconstrained
        if self.kind == EQ:
            for bit, node in conditions:
                value = node["value"]
                for item in value if isinstance(value, list) else [value]:
                    key = value_key(item)
                    self.table[key] = self.table.get(key, 0) | bit
            self.table = {key: mask | unconstrained for key, mask in self.table.items()}
        elif self.kind == PREFIX:
            for bit, node in conditions:
                prefix = rules.text_of(node["value"])
                self.table[prefix] = self.table.get(prefix, 0) | bit
            self.lengths = tuple(sorted({len(prefix) for prefix in self.table}))
        else:
            self._build_ranges(conditions, unconstrained)

    def _build_ranges(self, conditions, unconstrained) -> None:
        # Elementary segments: 2i+1 is the point points[i], 2i the open gap before it. Each
        # interval toggles its bit on at its first segment and off after its last one.
        intervals = [
            (bit, node["op"], *_bounds(node["op"], node["value"])) for bit, node in conditions
        ]
        points = sorted({p for _, _, low, high in intervals for p in (low, high)})
        toggles = [0] * (2 * len(points) + 2)
        for bit, op, low, high in intervals:
            first = 2 * bisect.bisect_left(points, low) + (2 if op == "gt" else 1)
            last = 2 * bisect.bisect_left(points, high) + (0 if op == "lt" else 1)
            if first <= last:
                toggles[first] ^= bit
                toggles[last + 1] ^= bit
        running, segments = 0, []
        for toggle in toggles[:-1]:
            running ^= toggle
            segments.append(running | unconstrained)
        self.points, self.segments = points, segments

    def mask(self, value) -> int:
        """`value` is the record's raw value, not None."""
        if type(value) is list:
            mask = self.default
            for item in value:
                if item is not None:
                    mask |= self.mask(item)
            return mask
        if self.kind == EQ:
            key = _string_key(value) if type(value) is str else value_key(value)
            return self.table.get(key, self.default)
        if self.kind == RANGE:
            number = _string_key(value) if type(value) is str else value_key(value)
            if type(number) is not float:
                return self.default
            points = self.points
            index = bisect.bisect_left(points, number)
            if index < len(points) and points[index] == number:
                return self.segments[2 * index + 1]
            return self.segments[2 * index]
        text = _text_key(value) if type(value) is str else rules.text_of(value)
        mask, table = self.default, self.table
        for length in self.lengths:
            mask |= table.get(text[:length], 0)
        return mask


def _shape(dimension) -> str:
    # Prefix dimensions are unrolled over their prefix lengths.
    return f"{PREFIX}{len(dimension.lengths)}" if dimension.kind is PREFIX else dimension.kind


def _bits_parameters(shapes: tuple[str, ...]) -> list[str]:
    names = ["ALL"]
    for i, shape in enumerate(shapes):
        names += [f"F{i}", f"D{i}", f"M{i}"]
        if shape == EQ:
            names.append(f"T{i}")
        elif shape == RANGE:
            names += [f"P{i}", f"S{i}"]
        else:
            names += [f"T{i}", *(f"L{i}_{j}" for j in range(int(shape.removeprefix(PREFIX))))]
    return names


def _bits_source(shapes: tuple[str, ...]) -> str:
    """Straight-line code that ANDs one mask per dimension. One code object per shape of
    dimensions; each index binds its own tables as the parameters' defaults (fast locals).
    The source holds only names made here (F0, T0, …), never a field name or a value."""
    lines = [f"def bits(fields, {', '.join(_bits_parameters(shapes))}):", "    b = ALL"]
    for i, shape in enumerate(shapes):
        lines += [f"    v = fields.get(F{i})", f"    if v is None: b &= D{i}"]
        if shape == EQ:
            lines.append(f"    elif type(v) is str: b &= T{i}.get(sk(v), D{i})")
        elif shape == RANGE:
            lines += [
                "    elif type(v) is not list:",
                "        n = float(v) if type(v) is int else sk(v) if type(v) is str else vk(v)",
                f"        b &= S{i}[bl(P{i}, n) + br(P{i}, n)] if type(n) is float else D{i}",
            ]
        else:
            lookups = "".join(
                f" | T{i}.get(t[:L{i}_{j}], 0)" for j in range(int(shape.removeprefix(PREFIX)))
            )
            lines += [
                "    elif type(v) is str:",
                "        t = tk(v)",
                f"        b &= D{i}{lookups}",
            ]
        lines += [f"    else: b &= M{i}(v)", "    if not b: return 0"]
    lines.append("    return b")
    return "\n".join(lines)


_BITS_GLOBALS = {
    "__builtins__": builtins,
    "sk": _string_key,
    "vk": value_key,
    "tk": _text_key,
    "bl": bisect_left,
    "br": bisect_right,
}


@lru_cache(maxsize=256)
def _bits_code(shapes: tuple[str, ...]) -> types.CodeType:
    module = compile(_bits_source(shapes), "<territory index>", "exec")
    return next(const for const in module.co_consts if isinstance(const, types.CodeType))


def _bits_function(dimensions, all_bits: int):
    """`bits(fields) -> int`: the candidates of one record as a bitmask."""
    values = {"ALL": all_bits}
    for i, d in enumerate(dimensions):
        values.update({f"F{i}": d.field, f"D{i}": d.default, f"M{i}": d.mask, f"T{i}": d.table})
        values.update({f"P{i}": d.points, f"S{i}": d.segments})
        values.update({f"L{i}_{j}": length for j, length in enumerate(d.lengths)})
    shapes = tuple(_shape(d) for d in dimensions)
    defaults = tuple(values[name] for name in _bits_parameters(shapes))
    return types.FunctionType(_bits_code(shapes), _BITS_GLOBALS, "bits", defaults)


class _BitIndex:
    """Territories as bits, in resolution order, with one `_Dimension` per indexed
    (field, kind): a record's candidates are the AND of one mask per dimension, so the cost
    depends on the number of fields, not of territories. Set bits come out lowest first,
    which is already the resolution order."""

    def __init__(self, territory_ids: list[int], indexed: dict[int, dict], checks: dict):
        self.by_bit = territory_ids
        self.all_bits = (1 << len(territory_ids)) - 1
        # What the index cannot decide, by bit; `checked` has the bits that need a check.
        self.checks = [checks.get(tid) for tid in territory_ids]
        self.checked = sum(1 << bit for bit, check in enumerate(self.checks) if check)
        grouped: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        for position, tid in enumerate(territory_ids):
            for dimension, node in indexed[tid].items():
                grouped.setdefault(dimension, []).append((1 << position, node))
        dimensions = []
        for (name, kind), conditions in grouped.items():
            constrained = 0
            for bit, _ in conditions:
                constrained |= bit
            dimension = _Dimension(name, kind)
            dimension.build(conditions, self.all_bits & ~constrained)
            dimensions.append((len(conditions), dimension))
        # The dimensions that constrain most territories first: the AND reaches zero sooner.
        dimensions.sort(key=lambda pair: -pair[0])
        self.dimensions = tuple(dimension for _, dimension in dimensions)
        self.bits = _bits_function(self.dimensions, self.all_bits)


class CompiledMatcher(_Base):
    """Built once per plan version (see `territories.selectors`), then read-only.

    Each top-level condition that an index dimension decides exactly (equality/`in`, numeric
    ranges, `starts_with`; one per territory and dimension) goes into the index; what is left
    of a rule (OR/NOT groups, other operators) is a compiled closure, checked only on the
    territories the index lets through. When one equality field splits the plan well (a
    country, a region), territories are first partitioned by its value, so each partition's
    bitsets stay a few machine words long."""

    def __init__(self, plan: PlanData):
        super().__init__(plan)
        ordered = sorted(self.rule_ids, key=self.rank.__getitem__)
        indexed: dict[int, dict] = {}
        residual: dict[int, list] = {}
        for tid in ordered:
            indexed[tid] = {}
            for node in _top_level(self.effective[tid]):
                kind = _dimension_of(node) if "field" in node else None
                dimension = (node["field"], kind) if kind else None
                if dimension is None or dimension in indexed[tid]:
                    residual.setdefault(tid, []).append(compile_rule(node))
                else:
                    indexed[tid][dimension] = node
        self.checks = {tid: _compile_all(checks) for tid, checks in residual.items()}
        self.partition_field = self._partition_field(ordered, indexed)
        self.partitions: dict = {}
        if self.partition_field is None:
            self.unpartitioned = _BitIndex(ordered, indexed, self.checks)
            return
        dimension = (self.partition_field, EQ)
        members: dict = {}
        unconstrained = []
        for tid in ordered:
            node = indexed[tid].pop(dimension, None)
            if node is None:
                unconstrained.append(tid)
                continue
            value = node["value"]
            for key in {
                value_key(item) for item in (value if isinstance(value, list) else [value])
            }:
                members.setdefault(key, []).append(tid)
        self.unpartitioned = _BitIndex(unconstrained, indexed, self.checks)
        for key, tids in members.items():
            merged = sorted([*tids, *unconstrained], key=self.rank.__getitem__)
            self.partitions[key] = _BitIndex(merged, indexed, self.checks)

    @staticmethod
    def _partition_field(ordered, indexed) -> str | None:
        """The equality field whose value leaves the fewest territories to look at, if that
        is at most half of them."""
        keys_per_field: dict[str, list[int]] = {}
        distinct: dict[str, set] = {}
        for tid in ordered:
            for (name, kind), node in indexed[tid].items():
                if kind is EQ:
                    value = node["value"]
                    values = value if isinstance(value, list) else [value]
                    keys_per_field.setdefault(name, []).append(len(values))
                    distinct.setdefault(name, set()).update(value_key(item) for item in values)
        best, best_size = None, len(ordered) / 2
        for name, sizes in keys_per_field.items():
            expected = len(ordered) - len(sizes) + sum(sizes) / len(distinct[name])
            if expected < best_size:
                best, best_size = name, expected
        return best

    def rule_candidates(self, fields: dict) -> list[int]:
        index = self._index_for(fields)
        if index is None:
            return self._list_candidates(fields[self.partition_field], fields)
        return self._survivors(index, fields)

    def winners(self, records) -> list[int | None]:
        """The winning territory id of each record (None: unmatched), for bulk re-evaluation:
        the same decision as `resolve`, without building a Resolution, stopping at the
        first candidate that passes its checks."""
        found: list[int | None] = []
        append, known_accounts = found.append, self.known_accounts
        for fields in records:
            if known_accounts:
                resolution = self._account_resolution(fields)
                if resolution is not None:
                    append(resolution.candidate_ids[0])
                    continue
            index = self._index_for(fields)
            if index is None:
                ids = self._list_candidates(fields[self.partition_field], fields)
                append(ids[0] if ids else None)
                continue
            bits, checks, winner = index.bits(fields), index.checks, None
            while bits:
                lowest = bits & -bits
                position = lowest.bit_length() - 1
                check = checks[position]
                if check is None or check(fields):
                    winner = index.by_bit[position]
                    break
                bits ^= lowest
            append(winner)
        return found

    def _index_for(self, fields: dict) -> _BitIndex | None:
        """The partition the record falls in; None when the partition field holds a list."""
        field = self.partition_field
        if field is None:
            return self.unpartitioned
        value = fields.get(field)
        if type(value) is str:
            return self.partitions.get(_string_key(value)) or self.unpartitioned
        if type(value) is list:
            return None
        if value is None:
            return self.unpartitioned
        return self.partitions.get(value_key(value)) or self.unpartitioned

    def _list_candidates(self, values: list, fields: dict) -> list[int]:
        """A list in the partition field matches when any element does: the union of the
        partitions of its elements (and of the unconstrained territories), re-ordered."""
        indexes = {id(index): index for index in [self.unpartitioned]}
        for item in values:
            if item is not None:
                index = self.partitions.get(value_key(item))
                if index is not None:
                    indexes[id(index)] = index
        found = {tid for index in indexes.values() for tid in self._survivors(index, fields)}
        return sorted(found, key=self.rank.__getitem__)

    def _survivors(self, index: _BitIndex, fields: dict) -> list[int]:
        bits = index.bits(fields)
        by_bit, found = index.by_bit, []
        if not bits & index.checked:
            while bits:
                lowest = bits & -bits
                found.append(by_bit[lowest.bit_length() - 1])
                bits ^= lowest
            return found
        checks = index.checks
        while bits:
            lowest = bits & -bits
            position = lowest.bit_length() - 1
            bits ^= lowest
            check = checks[position]
            if check is None or check(fields):
                found.append(by_bit[position])
        return found
