"""Code generation: rules compiled to closures, and the straight-line `bits` function one
index shape compiles to (its source holds only names made here, never a field or value)."""

import builtins
import types
from bisect import bisect_left, bisect_right
from functools import lru_cache

from .. import rules

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


RANGE_OPS = ("between", "gte", "lte", "gt", "lt")
EQ, RANGE, PREFIX = "eq", "range", "prefix"


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
