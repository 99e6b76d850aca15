"""The compiled matcher: an index of bitmasks per (field, kind) over territories in
resolution order, with closures for what the index cannot decide."""

import bisect

from .. import rules
from .codegen import (
    EQ,
    PREFIX,
    RANGE,
    RANGE_OPS,
    _bits_function,
    _bounds,
    _compile_all,
    _string_key,
    _text_key,
    compile_rule,
    value_key,
)
from .data import PlanData
from .order import _Base


def _top_level(rule) -> list[dict]:
    """The rule as a flat list of nodes that must all hold."""
    if not rule:
        return []
    if "all" in rule:
        return [node for child in rule["all"] for node in _top_level(child)]
    return [rule]


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
