"""Territory coverage derived from rules, against hand-computed examples: the effective rule
(ancestors AND own) projected onto country/state and evaluated by the rule language's own
evaluator."""

from geo.boundaries import Coverage, coverage_of, territory_shapes
from territories.matching import TerritoryInfo


def country(op, value):
    return {"field": "country", "op": op, "value": value}


def state(op, value):
    return {"field": "state", "op": op, "value": value}


INDUSTRY = {"field": "industry", "op": "eq", "value": "Retail"}


def test_a_country_rule_covers_the_country_whole():
    assert coverage_of([country("eq", "US")]) == Coverage(frozenset({"US"}), frozenset())


def test_other_fields_drop_out_and_names_become_codes():
    rule = {"all": [country("in", ["United States", "CAN"]), INDUSTRY]}
    assert coverage_of([rule]) == Coverage(frozenset({"US", "CA"}), frozenset())


def test_states_within_a_country():
    rule = {"all": [country("eq", "US"), state("in", ["CA", "Oregon", "Atlantis"])]}
    assert coverage_of([rule]) == Coverage(frozenset(), frozenset({"US-CA", "US-OR"}))


def test_a_rule_of_states_only_means_us_states():
    assert coverage_of([state("eq", "tx")]) == Coverage(frozenset(), frozenset({"US-TX"}))


def test_ancestors_rules_narrow_the_child():
    # Parent: the US and Canada; child: Texas and Ontario (not a US state: nothing).
    parent = country("in", ["US", "CA"])
    child = state("in", ["TX", "ON"])
    assert coverage_of([parent, child]) == Coverage(frozenset(), frozenset({"US-TX"}))
    # A child naming a country its parent excludes covers nothing.
    assert coverage_of([country("eq", "FR"), country("eq", "US")]) is None


def test_any_unions_regions():
    rule = {"any": [country("eq", "FR"), {"all": [country("eq", "US"), state("eq", "NY")]}]}
    assert coverage_of([rule]) == Coverage(frozenset({"FR"}), frozenset({"US-NY"}))


def test_an_any_with_a_non_geographic_branch_is_no_boundary():
    # France OR any retailer anywhere: it is not a region of the map.
    assert coverage_of([{"any": [country("eq", "FR"), INDUSTRY]}]) is None


def test_rules_without_geography_draw_nothing():
    assert coverage_of([INDUSTRY]) is None
    assert coverage_of([None]) is None
    assert coverage_of([country("starts_with", "U")]) is None  # names no country


def test_a_whole_country_absorbs_its_states():
    rule = {"any": [country("eq", "US"), state("eq", "CA")]}
    assert coverage_of([rule]) == Coverage(frozenset({"US"}), frozenset())


def test_covers_a_region_a_part_of_it_or_its_country():
    west = Coverage(frozenset(), frozenset({"US-CA"}))
    assert west.covers("US-CA") and west.covers("US") and not west.covers("US-NY")
    us = Coverage(frozenset({"US"}), frozenset())
    assert us.covers("US-NY") and not us.covers("FR")


def _info(id, name, parent_id, depth, rule, is_active=True):
    return TerritoryInfo(
        id=id,
        name=name,
        priority=0,
        depth=depth,
        parent_id=parent_id,
        kind="geographic",
        distribution="round_robin",
        rule=rule,
        member_rule=None,
        named_accounts=(),
        fallback_member_id=None,
        fallback_territory_id=None,
        is_active=is_active,
        slots=(),
    )


def test_shapes_of_a_plan_follow_the_hierarchy():
    plan = [
        _info(1, "Americas", None, 1, country("in", ["US", "CA"])),
        _info(2, "Texas", 1, 2, state("eq", "TX")),
        _info(3, "Retail", 1, 2, INDUSTRY),  # inherits the Americas: same regions
        _info(4, "Closed", None, 1, country("eq", "FR"), is_active=False),
    ]
    shapes = {shape.id: shape for shape in territory_shapes(plan)}
    assert set(shapes) == {1, 2, 3}
    assert shapes[1].coverage.countries == {"US", "CA"}
    assert shapes[2].coverage.states == {"US-TX"} and shapes[2].level == 2
    assert shapes[3].coverage.countries == {"US", "CA"}
