"""The rule language of DESIGN.md section 3, operator by operator."""

import pytest

from territories.rules import evaluate, validate_rule

RECORD = {
    "country": " us ",
    "state": "CA",
    "postal_code": "94105",
    "employees": "620",
    "annual_revenue": 12_000_000,
    "industry": "Healthcare",
    "domain": "acme.com",
    "tags": ["Enterprise", "beta"],
    "empty": None,
}


def cond(field, op, value=None, **extra):
    node = {"field": field, "op": op, **extra}
    if op not in ("exists", "not_exists"):
        node["value"] = value
    return node


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (cond("country", "eq", "US"), True),  # trimmed, case-insensitive
        (cond("country", "eq", "usa"), False),
        (cond("employees", "eq", 620), True),  # numeric string is a number
        (cond("country", "ne", "CA"), True),
        (cond("state", "in", ["ca", "or"]), True),
        (cond("state", "not_in", ["ca", "or"]), False),
        (cond("employees", "gt", 619), True),
        (cond("employees", "gt", 620), False),
        (cond("employees", "gte", 620), True),
        (cond("employees", "lt", 620), False),
        (cond("employees", "lte", "620"), True),
        (cond("employees", "between", [500, 620]), True),  # inclusive
        (cond("employees", "between", [621, 1000]), False),
        (cond("industry", "contains", "CARE"), True),
        (cond("tags", "contains", "enterprise"), True),  # list membership
        (cond("tags", "contains", "enter"), False),
        (cond("tags", "not_contains", "alpha"), True),
        (cond("industry", "not_contains", "care"), False),
        (cond("postal_code", "starts_with", "941"), True),
        (cond("domain", "ends_with", ".COM"), True),
        (cond("domain", "matches", r"^ac.e\.com$"), True),
        (cond("country", "exists"), True),
        (cond("empty", "exists"), False),
        (cond("missing", "not_exists"), True),
        (cond("empty", "not_exists"), True),
        (cond("industry", "gt", 5), False),  # non-numeric value never compares
    ],
)
def test_operator(node, expected):
    assert evaluate(node, RECORD) is expected


@pytest.mark.parametrize("op", ["eq", "ne", "in", "not_in", "gt", "contains", "not_contains"])
def test_missing_or_null_field_is_false_for_every_operator_but_not_exists(op):
    value = [1] if op in ("in", "not_in") else 1
    assert evaluate(cond("missing", op, value), RECORD) is False
    assert evaluate(cond("empty", op, value), RECORD) is False


def test_not_inverts_its_child_even_on_missing_fields():
    assert evaluate({"not": cond("missing", "eq", "x")}, RECORD) is True


def test_groups():
    rule = {
        "all": [
            cond("country", "eq", "us"),
            {"any": [cond("state", "eq", "NY"), cond("state", "eq", "CA")]},
        ]
    }
    assert evaluate(rule, RECORD) is True
    assert evaluate({"any": [cond("state", "eq", "NY")]}, RECORD) is False


def test_null_rule_matches_everything():
    assert evaluate(None, {}) is True


def test_member_reference_in_eligibility_rules():
    rule = cond("language", "in", None)
    del rule["value"]
    rule["value_from"] = "member.languages"
    assert evaluate(rule, {"language": "FR"}, {"languages": ["en", "fr"]}) is True
    assert evaluate(rule, {"language": "de"}, {"languages": ["en", "fr"]}) is False
    assert evaluate(rule, {"language": "de"}, {}) is False


def test_validation_reports_every_bad_node_by_json_pointer():
    rule = {
        "all": [
            cond("country", "eq", "US"),
            {"field": "state", "op": "equals", "value": "CA"},
            {"any": [cond("employees", "between", [10]), {"field": "", "op": "eq", "value": 1}]},
            {"not": cond("domain", "matches", r"(a)\1")},
            {"field": "x", "op": "in", "value": []},
            "nonsense",
        ]
    }
    errors = {e["path"]: e["message"] for e in validate_rule(rule)}
    assert errors["/all/1/op"] == "unknown operator 'equals'"
    assert "/all/2/any/0/value" in errors
    assert "/all/2/any/1/field" in errors
    assert "/all/3/not/value" in errors
    assert "/all/4/value" in errors
    assert "/all/5" in errors
    assert "/all/0" not in "".join(errors)


def test_limits():
    deep = cond("a", "eq", 1)
    for _ in range(11):
        deep = {"not": deep}
    assert any("deeper" in e["message"] for e in validate_rule(deep))
    many = {"all": [cond("a", "eq", i) for i in range(501)]}
    assert any("501 conditions" in e["message"] for e in validate_rule(many))
    assert validate_rule(cond("a", "in", [1] * 50_000)) == []
    assert "limit is 50000" in validate_rule(cond("a", "in", [1] * 50_001))[0]["message"]
    assert validate_rule(cond("a", "matches", "x" * 201))
    assert validate_rule({"any": [cond("a", "in", ["x" * 1000] * 300)]})  # > 256 KiB


def test_value_from_only_in_member_rules():
    rule = {"field": "language", "op": "in", "value_from": "member.languages"}
    assert validate_rule(rule)[0]["path"] == "/value_from"
    assert validate_rule(rule, allow_member_refs=True) == []
