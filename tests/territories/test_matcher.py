"""The compiled matcher gives the reference evaluator's answer, and resolves in order:
lock > named account > rules; winner by priority, depth, geographic specificity, id."""

from hypothesis import given, settings
from hypothesis import strategies as st

from territories.matcher import (
    CompiledMatcher,
    PlanData,
    ReferenceMatcher,
    TerritoryInfo,
    compile_rule,
    normalize_fields,
)
from territories.rules import evaluate

FIELDS = ["country", "state", "industry", "employees", "tags"]
STRINGS = st.sampled_from(["us", "US ", "ca", "fr", "health", "Retail", "10", "2.5", ""])
NUMBERS = st.one_of(st.integers(-5, 2000), st.sampled_from([0.5, 10.0, 1e3]))
SCALARS = st.one_of(STRINGS, NUMBERS, st.booleans())


def conditions():
    field = st.sampled_from(FIELDS)
    return st.one_of(
        st.builds(lambda f, v: {"field": f, "op": "eq", "value": v}, field, SCALARS),
        st.builds(lambda f, v: {"field": f, "op": "ne", "value": v}, field, SCALARS),
        st.builds(
            lambda f, v: {"field": f, "op": "in", "value": v},
            field,
            st.lists(SCALARS, min_size=1, max_size=4),
        ),
        st.builds(
            lambda f, v: {"field": f, "op": "not_in", "value": v},
            field,
            st.lists(SCALARS, min_size=1, max_size=3),
        ),
        st.builds(
            lambda f, op, v: {"field": f, "op": op, "value": v},
            field,
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            NUMBERS,
        ),
        st.builds(
            lambda f, a, b: {"field": f, "op": "between", "value": [min(a, b), max(a, b)]},
            field,
            NUMBERS,
            NUMBERS,
        ),
        st.builds(
            lambda f, op, v: {"field": f, "op": op, "value": v},
            field,
            st.sampled_from(["contains", "not_contains", "starts_with", "ends_with"]),
            STRINGS,
        ),
        st.builds(lambda f: {"field": f, "op": "exists"}, field),
        st.builds(lambda f: {"field": f, "op": "not_exists"}, field),
    )


RULES = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=6,
)
RECORDS = st.dictionaries(
    st.sampled_from(FIELDS),
    st.one_of(SCALARS, st.none(), st.lists(SCALARS, max_size=3)),
)


@settings(max_examples=400, deadline=None)
@given(RULES, RECORDS)
def test_compiled_rule_equals_reference(rule, record):
    assert compile_rule(rule)(record, normalize_fields(record)) == evaluate(rule, record)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), RULES), st.integers(0, 3), st.integers(0, 5)),
        min_size=1,
        max_size=12,
    ),
    st.lists(RECORDS, min_size=1, max_size=10),
)
def test_compiled_plan_resolves_like_reference(specs, records):
    territories = []
    for index, (rule, priority, parent_choice) in enumerate(specs, start=1):
        parent = parent_choice if 0 < parent_choice < index else None
        depth = 1 if parent is None else territories[parent - 1].depth + 1
        territories.append(
            TerritoryInfo(
                id=index,
                name=f"t{index}",
                priority=priority,
                parent_id=parent,
                depth=depth,
                rule=rule,
            )
        )
    plan = PlanData(plan_id=1, version=1, territories=tuple(territories))
    compiled, reference = CompiledMatcher(plan), ReferenceMatcher(plan)
    for record in records:
        fast, slow = compiled.resolve(record), reference.resolve(record)
        assert [t.id for t in fast.candidates] == [t.id for t in slow.candidates]
        assert fast.trace == slow.trace


def territory(tid, **kwargs):
    return TerritoryInfo(id=tid, name=f"T{tid}", **kwargs)


def resolve(territories, fields, locks=None):
    plan = PlanData(plan_id=1, version=1, territories=tuple(territories), locks=locks or {})
    return CompiledMatcher(plan).resolve(fields)


US = {"field": "country", "op": "eq", "value": "US"}
CA = {"field": "state", "op": "eq", "value": "CA"}
ZIP = {"field": "postal_code", "op": "starts_with", "value": "941"}


def test_priority_wins_then_conflicts_are_reported():
    result = resolve(
        [territory(1, rule=US, priority=10), territory(2, rule=US, priority=50)], {"country": "us"}
    )
    assert result.winner.id == 2
    assert [t.id for t in result.conflicts] == [1]
    assert result.trace[0]["detail"].startswith("priority 50")
    assert result.trace[1] == {
        "step": "conflict",
        "outcome": "lost",
        "territory": 1,
        "detail": "also matched: T1 (priority 10, depth 1, most specific geography: country)",
    }


def test_children_inherit_their_ancestors_rules_and_deeper_wins():
    parent = territory(1, rule=US)
    child = territory(
        2, parent_id=1, depth=2, rule={"field": "industry", "op": "eq", "value": "health"}
    )
    assert resolve([parent, child], {"country": "US", "industry": "Health"}).winner.id == 2
    assert resolve([parent, child], {"country": "FR", "industry": "Health"}).winner is None


def test_more_specific_geography_wins_on_equal_priority_and_depth():
    result = resolve(
        [territory(1, rule=US), territory(2, rule=ZIP), territory(3, rule=CA)],
        {"country": "US", "state": "CA", "postal_code": "94105"},
    )
    assert [t.id for t in result.candidates] == [2, 3, 1]


def test_lowest_id_breaks_remaining_ties():
    assert resolve([territory(7, rule=US), territory(3, rule=US)], {"country": "us"}).winner.id == 3


def test_lock_beats_named_account_beats_rules():
    territories = [
        territory(1, rule={"field": "domain", "op": "exists"}, priority=99),
        territory(2, kind="named_account", named_accounts=("acme.com",)),
        territory(3),
    ]
    assert resolve(territories, {"domain": "www.Acme.com"}).step == "named_account"
    locked = resolve(territories, {"domain": "acme.com"}, locks={"acme.com": (3, "exec deal")})
    assert (locked.step, locked.winner.id) == ("lock", 3)
    assert "exec deal" in locked.trace[0]["detail"]
    assert resolve(territories, {"domain": "other.com"}).winner.id == 1


def test_inactive_territories_and_their_subtrees_never_match():
    territories = [territory(1, rule=US, is_active=False), territory(2, parent_id=1, depth=2)]
    assert resolve(territories, {"country": "US"}).winner is None


def test_named_account_territories_without_rules_are_not_catch_alls():
    territories = [territory(1, kind="named_account", named_accounts=("x.com",))]
    assert resolve(territories, {"domain": "y.com"}).winner is None
