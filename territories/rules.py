"""The rule language of DESIGN.md section 3: validation and the reference evaluator.

The reference evaluator is the plain reading of the spec; `territories.matching` compiles
rules into closures and indexes and is property-tested against it.
"""

import json
import logging
import math
import re
from functools import lru_cache

import re2

logger = logging.getLogger(__name__)

OPERATORS = frozenset(
    [
        "eq",
        "ne",
        "in",
        "not_in",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "exists",
        "not_exists",
        "matches",
    ]
)
NO_VALUE_OPS = frozenset({"exists", "not_exists"})
LIST_OPS = frozenset({"in", "not_in"})
NUMERIC_OPS = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset({"starts_with", "ends_with", "matches"})

MAX_DEPTH = 10
MAX_CONDITIONS = 500
MAX_IN_VALUES = 50_000
MAX_REGEX = 200
MAX_RULE_BYTES = 256 * 1024
MAX_MATCH_INPUT = 1000
MEMBER_REF = re.compile(r"^member\.[A-Za-z0-9_.-]{1,100}$")


# --- values ---------------------------------------------------------------------------------
def value_key(value):
    """Comparable form: numbers (and numeric strings) as floats, strings trimmed + casefolded."""
    kind = type(value)
    if kind is str:
        return _string_key(value)
    if kind is bool:
        return value
    if kind is int or kind is float:
        return float(value)
    return value


@lru_cache(maxsize=65536)
def _string_key(value: str):
    # Records repeat the same few values (countries, industries): the cache pays for itself.
    text = value.strip().casefold()
    number = _as_number(text)
    return text if number is None else number


def _as_number(text: str):
    if not text or text[0] not in "+-.0123456789":
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def number_of(value):
    key = value_key(value)
    return key if isinstance(key, float) else None


def text_of(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().casefold()


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False  # `matches` has always been case-insensitive
    options.log_errors = False  # a refused pattern is reported to the caller, not to stderr
    options.never_capture = True  # `matches` asks only whether: no group offsets (2x faster)
    return options


REGEX_OPTIONS = _regex_options()


@lru_cache(maxsize=4096)
def compile_regex(pattern: str):
    """`matches` runs on RE2, not on Python's backtracking `re`: matching time is linear in
    the input whatever the pattern, so no rule can pin a worker (ReDoS). RE2 refuses what
    needs backtracking (backreferences, lookarounds): `re2.error`."""
    return re2.compile(pattern, REGEX_OPTIONS)


def regex_problem(pattern: str) -> str | None:
    """Why RE2 cannot run this pattern, or None."""
    try:
        compile_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "unsupported"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return (
            f"invalid regular expression: {reason} (RE2 syntax: no backreferences or lookarounds)"
        )
    return None


@lru_cache(maxsize=4096)
def regex_searcher(pattern):
    """`text -> bool`: does the pattern occur in the text? None for a pattern RE2 cannot run
    (a stored rule from before RE2, or a member attribute used as a pattern through
    `value_from`): it matches nothing."""
    if not isinstance(pattern, str):
        return None
    try:
        compiled = compile_regex(pattern)
    except re2.error:
        logger.warning("regular expression %r cannot run on RE2: it matches nothing", pattern)
        return None
    # The wrapper's `search` builds a Match with decoded offsets, most of the cost of a call;
    # `matches` only asks whether, so this asks RE2 itself (google-re2 is pinned).
    match, unanchored = compiled._regexp.Match, re2._Anchor.UNANCHORED

    def found(text: str) -> bool:
        encoded = _utf8(text)
        return match(unanchored, encoded, 0, len(encoded))[0][0] != -1

    return found


def _utf8(text: str) -> bytes:
    # A lone surrogate (valid in a JSON string) has no UTF-8 form: it reads as "?".
    return text.encode("utf-8", "replace")


def regex_matches(pattern, actual) -> bool:
    """The `matches` operator on one present scalar value (the first MAX_MATCH_INPUT
    characters of its text, as before)."""
    found = regex_searcher(pattern)
    return found is not None and found(str(actual)[:MAX_MATCH_INPUT])


# --- validation -----------------------------------------------------------------------------
MAX_FIELD_NUMBER = 1e300


def record_fields_errors(fields, path: str = "record.fields") -> list[dict]:
    """What is wrong with a record's fields: an object of scalars or lists of scalars, with
    finite numbers (a 400-digit integer would not even convert to a float)."""
    if not isinstance(fields, dict):
        return [{"path": path, "message": "must be an object"}]
    errors = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            problem = _field_value_problem(item)
            if problem:
                errors.append({"path": f"{path}.{name}", "message": problem})
                break
    return errors


def _field_value_problem(value) -> str | None:
    if value is None or isinstance(value, bool | str):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "numbers must be finite"
        return None if abs(value) <= MAX_FIELD_NUMBER else "number out of range"
    return "must be a string, number, boolean, null, or a list of those"


def validate_rule(rule, *, allow_member_refs: bool = False) -> list[dict]:
    """Every problem in the rule, each with the JSON pointer of its node. Empty: valid."""
    if rule is None:
        return []
    try:
        size = len(json.dumps(rule))
    except (TypeError, ValueError):
        return [{"path": "", "message": "rule must be JSON"}]
    if size > MAX_RULE_BYTES:
        return [{"path": "", "message": f"rule is {size} bytes; the limit is {MAX_RULE_BYTES}"}]
    errors: list[dict] = []
    counter = [0]
    _validate_node(rule, "", 1, errors, counter, allow_member_refs)
    if counter[0] > MAX_CONDITIONS:
        errors.append(
            {"path": "", "message": f"{counter[0]} conditions; the limit is {MAX_CONDITIONS}"}
        )
    return errors


def _validate_node(node, path, depth, errors, counter, allow_member_refs):
    if depth > MAX_DEPTH:
        errors.append({"path": path, "message": f"nested deeper than {MAX_DEPTH} levels"})
        return
    if not isinstance(node, dict):
        errors.append({"path": path, "message": "must be an object (a group or a condition)"})
        return
    groups = [key for key in ("all", "any", "not") if key in node]
    if groups:
        if len(node) != 1:
            errors.append(
                {"path": path, "message": "a group has exactly one key: 'all', 'any' or 'not'"}
            )
            return
        key = groups[0]
        child = node[key]
        if key == "not":
            _validate_node(child, f"{path}/not", depth + 1, errors, counter, allow_member_refs)
            return
        if not isinstance(child, list) or not child:
            errors.append({"path": f"{path}/{key}", "message": "must be a non-empty list"})
            return
        for index, item in enumerate(child):
            _validate_node(
                item, f"{path}/{key}/{index}", depth + 1, errors, counter, allow_member_refs
            )
        return
    counter[0] += 1
    _validate_condition(node, path, errors, allow_member_refs)


def _validate_condition(node, path, errors, allow_member_refs):
    def error(where, message):
        errors.append({"path": f"{path}/{where}" if where else path, "message": message})

    unknown = sorted(set(node) - {"field", "op", "value", "value_from"})
    for key in unknown:
        error(key, f"unknown key '{key}'")
    field = node.get("field")
    if not isinstance(field, str) or not field.strip() or len(field) > 100:
        error("field", "must be a field name of 1 to 100 characters")
    op = node.get("op")
    if op not in OPERATORS:
        error("op", f"unknown operator '{op}'" if isinstance(op, str) else "op is required")
        return
    has_value, has_ref = "value" in node, "value_from" in node
    if op in NO_VALUE_OPS:
        if has_value or has_ref:
            error("value", f"'{op}' takes no value")
        return
    if has_ref:
        if has_value:
            error("value_from", "give either value or value_from, not both")
        elif not allow_member_refs:
            error("value_from", "value_from is only allowed in member eligibility rules")
        elif not isinstance(node["value_from"], str) or not MEMBER_REF.match(node["value_from"]):
            error("value_from", "must look like 'member.<key>'")
        return
    if not has_value:
        error("value", f"'{op}' needs a value")
        return
    value = node["value"]
    if op in LIST_OPS:
        if not isinstance(value, list) or not value:
            error("value", f"'{op}' needs a non-empty list")
        elif len(value) > MAX_IN_VALUES:
            error("value", f"{len(value)} values; the limit is {MAX_IN_VALUES}")
        elif any(not _is_scalar(item) or item is None for item in value):
            error("value", "list items must be strings, numbers or booleans")
    elif op == "between":
        if (
            not isinstance(value, list)
            or len(value) != 2
            or any(number_of(item) is None for item in value)
        ):
            error("value", "'between' needs [low, high] numbers")
        elif number_of(value[0]) > number_of(value[1]):
            error("value", "low must not exceed high")
    elif op in NUMERIC_OPS:
        if number_of(value) is None:
            error("value", f"'{op}' needs a number")
    elif op == "matches":
        if not isinstance(value, str) or not value:
            error("value", "'matches' needs a regular expression string")
        elif len(value) > MAX_REGEX:
            error("value", f"regular expression longer than {MAX_REGEX} characters")
        elif problem := regex_problem(value):
            error("value", problem)
    elif not _is_scalar(value) or value is None:
        error("value", f"'{op}' needs a string, number or boolean")


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


# --- reference evaluation -------------------------------------------------------------------
def evaluate(rule, fields: dict, member: dict | None = None) -> bool:
    """Does the record (and, for eligibility rules, the member) satisfy the rule?"""
    if rule is None:
        return True
    if "all" in rule:
        return all(evaluate(child, fields, member) for child in rule["all"])
    if "any" in rule:
        return any(evaluate(child, fields, member) for child in rule["any"])
    if "not" in rule:
        return not evaluate(rule["not"], fields, member)
    return _condition(rule, fields, member)


def _condition(node, fields, member) -> bool:
    op = node["op"]
    actual = fields.get(node["field"])
    if op == "exists":
        return actual is not None
    if op == "not_exists":
        return actual is None
    if actual is None:
        return False
    if "value_from" in node:
        expected = (member or {}).get(node["value_from"].removeprefix("member."))
        if expected is None:
            return False
    else:
        expected = node["value"]
    return apply_operator(op, actual, expected)


def apply_operator(op: str, actual, expected) -> bool:
    """One operator on a present value. List-valued record fields match if any element does
    (for the negative operators: if no element does)."""
    if op in ("ne", "not_in", "not_contains"):
        positive = {"ne": "eq", "not_in": "in", "not_contains": "contains"}[op]
        return not apply_operator(positive, actual, expected)
    if op == "contains":
        if isinstance(actual, list):
            return _list_contains(actual, expected)
        return text_of(expected) in text_of(actual)
    if isinstance(actual, list):
        return any(apply_operator(op, item, expected) for item in actual if item is not None)
    if op == "eq":
        if isinstance(expected, list):  # a member's list attribute: membership
            return _list_contains(expected, actual)
        return value_key(actual) == value_key(expected)
    if op == "in":
        items = expected if isinstance(expected, list) else [expected]
        return value_key(actual) in {value_key(item) for item in items}
    if op in NUMERIC_OPS or op == "between":
        number = number_of(actual)
        if number is None:
            return False
        if op == "between":
            return number_of(expected[0]) <= number <= number_of(expected[1])
        bound = number_of(expected)
        if bound is None:
            return False
        return {
            "gt": number > bound,
            "gte": number >= bound,
            "lt": number < bound,
            "lte": number <= bound,
        }[op]
    text = text_of(actual)
    if op == "starts_with":
        return text.startswith(text_of(expected))
    if op == "ends_with":
        return text.endswith(text_of(expected))
    if op == "matches":
        return regex_matches(expected, actual)
    raise ValueError(f"unknown operator {op}")


def _list_contains(items: list, expected) -> bool:
    key = value_key(expected)
    return any(value_key(item) == key for item in items if item is not None)


# --- explanation ----------------------------------------------------------------------------
def rule_failures(rule, fields: dict, member: dict | None = None) -> list[str]:
    """Why `rule` does not hold, in words, one line per failing condition of its ALL groups
    (an ANY or NOT group that fails is one line): what "Test a record" shows next to an
    eligibility exclusion. Empty when the rule holds."""
    if rule is None or evaluate(rule, fields, member):
        return []
    if "all" in rule:
        return [line for child in rule["all"] for line in rule_failures(child, fields, member)]
    if "any" in rule:
        return [f"none of {len(rule['any'])} alternatives holds"]
    if "not" in rule:
        return ["a NOT group's condition holds"]
    return [_condition_failure(rule, fields, member)]


def _shown(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _condition_failure(node, fields, member) -> str:
    name, op = node["field"], node["op"]
    actual = fields.get(name)
    if actual is None:
        return f"the record has no {name}" if op != "not_exists" else f"the record has {name}"
    if op == "exists":
        return f"the record has no {name}"
    if op == "not_exists":
        return f"the record has {name} ({_shown(actual)})"
    if "value_from" in node:
        key = node["value_from"].removeprefix("member.")
        expected = (member or {}).get(key)
        if expected is None:
            return f"the member has no {key}"
        return f"{name} {_shown(actual)} is not {op} member.{key} ({_shown(expected)})"
    return f"{name} {_shown(actual)} is not {op} {_shown(node.get('value'))}"
