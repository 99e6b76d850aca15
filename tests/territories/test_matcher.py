"""The compiled matcher gives the reference evaluator's answer, and resolves in order:
lock > named account > rules; winner by priority, depth, geographic specificity, id."""

from hypothesis import given, settings
from hypothesis import strategies as st

from territories.matching import (
    CompiledMatcher,
    PlanData,
    ReferenceMatcher,
    TerritoryInfo,
    compile_rule,
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
        st.builds(
            lambda f, v: {"field": f, "op": "starts_with", "value": v},
            field,
            st.one_of(STRINGS, st.integers(0, 20)),
        ),
        st.builds(
            lambda f, v: {"field": f, "op": "matches", "value": v},
            field,
            st.sampled_from(["^u", "a$", "[0-9]+", "re.*l"]),
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
    assert compile_rule(rule)(record) == evaluate(rule, record)


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
    assert compiled.winners(records) == reference.winners(records)


COUNTRY_VALUES = st.sampled_from(["us", "ca", "fr", "de", "jp", "br", "10"])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), COUNTRY_VALUES, st.lists(COUNTRY_VALUES, min_size=1, max_size=3)),
            st.one_of(st.none(), RULES),
            st.integers(0, 3),
        ),
        min_size=8,
        max_size=40,
    ),
    st.lists(
        st.fixed_dictionaries(
            {"country": st.one_of(COUNTRY_VALUES, st.none(), st.lists(COUNTRY_VALUES, max_size=3))},
            optional={
                field: st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
                for field in FIELDS
                if field != "country"
            },
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_partitioned_plan_resolves_like_reference(specs, records):
    """Plans where one equality field splits the territories (the matcher partitions them by
    its value), with list values and missing values in records."""
    territories = []
    for index, (country, rule, priority) in enumerate(specs, start=1):
        parts = [rule] if rule else []
        if country is not None:
            op = "in" if isinstance(country, list) else "eq"
            parts.append({"field": "country", "op": op, "value": country})
        territories.append(
            TerritoryInfo(
                id=index,
                name=f"t{index}",
                priority=priority,
                rule={"all": parts} if parts else None,
            )
        )
    plan = PlanData(plan_id=1, version=1, territories=tuple(territories))
    compiled, reference = CompiledMatcher(plan), ReferenceMatcher(plan)
    for record in records:
        assert compiled.resolve(record).trace == reference.resolve(record).trace
    assert compiled.winners(records) == reference.winners(records)


def test_a_plan_split_by_country_is_partitioned():
    territories = [
        territory(i, rule={"field": "country", "op": "eq", "value": f"c{i}"}) for i in range(1, 9)
    ]
    matcher = CompiledMatcher(PlanData(plan_id=1, version=1, territories=tuple(territories)))
    assert matcher.partition_field == "country"
    assert matcher.resolve({"country": "C3"}).winner.id == 3
    assert matcher.resolve({"country": ["c9", "c4", "c2"]}).candidate_ids == [2, 4]
    assert matcher.resolve({"country": None}).winner is None


def test_ranges_with_open_and_closed_bounds_are_exact():
    territories = [
        territory(1, rule={"field": "employees", "op": "gt", "value": 10}),
        territory(2, rule={"field": "employees", "op": "between", "value": [5, 10]}),
        territory(3, rule={"field": "employees", "op": "lt", "value": 5}),
    ]
    matcher = CompiledMatcher(PlanData(plan_id=1, version=1, territories=tuple(territories)))
    owners = {n: matcher.resolve({"employees": n}).candidate_ids for n in (4, 5, 10, "10.5", 11)}
    assert owners == {4: [3], 5: [2], 10: [2], "10.5": [1], 11: [1]}
    assert matcher.resolve({"employees": "many"}).winner is None


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
    plan = PlanData(1, 1, tuple(territories), locks={"acme.com": (3, "exec deal")})
    records = [{"domain": "https://www.ACME.com/x"}, {"domain": "other.com"}, {}]
    assert CompiledMatcher(plan).winners(records) == [3, 1, 3]


def test_inactive_territories_and_their_subtrees_never_match():
    territories = [territory(1, rule=US, is_active=False), territory(2, parent_id=1, depth=2)]
    assert resolve(territories, {"country": "US"}).winner is None


def test_named_account_territories_without_rules_are_not_catch_alls():
    territories = [territory(1, kind="named_account", named_accounts=("x.com",))]
    assert resolve(territories, {"domain": "y.com"}).winner is None
