"""Which countries and US states a territory covers, read from its rule (DESIGN §10).

A territory's effective rule is its rule AND its ancestors' rules (DESIGN §4.1). It is
projected onto the geographic fields (conditions on other fields say nothing about where,
so they drop out), and the projection is evaluated by the rule language's own reference
evaluator (`territories.rules.evaluate`) on every country and state the rule names in an
`eq`/`in` condition: a country the projection accepts without a state is covered whole,
otherwise the states it accepts are. A rule that names no country or state is not
geographic and draws nothing. Plain data in and out.
"""

from dataclasses import dataclass

from territories import rules

from . import places

GEO_FIELDS = ("country", "state")


@dataclass(frozen=True)
class Coverage:
    countries: frozenset[str]  # ISO alpha-2 codes covered whole
    states: frozenset[str]  # "US-CA" codes covered (beyond whole countries)

    def covers(self, code: str) -> bool:
        """Does it cover region `code` ('FR', 'US-CA')? A state is covered with its country;
        a country is listed when the territory covers any part of it."""
        if code in self.countries or code in self.states:
            return True
        if "-" in code:
            return code.split("-", 1)[0] in self.countries
        return any(state.startswith(f"{code}-") for state in self.states)


def project(node):
    """The rule reduced to its geographic conditions; None when what remains constrains
    nothing (a non-geographic condition could be true or false: it is no boundary)."""
    if node is None:
        return None
    if "all" in node:
        children = [child for child in map(project, node["all"]) if child is not None]
        return {"all": children} if children else None
    if "any" in node:
        children = [project(child) for child in node["any"]]
        if not children or any(child is None for child in children):
            return None
        return {"any": children}
    if "not" in node:
        child = project(node["not"])
        return None if child is None else {"not": child}
    return node if node.get("field") in GEO_FIELDS else None


def _named_values(node, field: str, found: list) -> list:
    if node is None:
        return found
    for key in ("all", "any"):
        if key in node:
            for child in node[key]:
                _named_values(child, field, found)
            return found
    if "not" in node:
        return _named_values(node["not"], field, found)
    if node.get("field") == field and node.get("op") in ("eq", "in"):
        value = node.get("value")
        found.extend(value if isinstance(value, list) else [value])
    return found


def coverage_of(effective_rules: list) -> Coverage | None:
    """Coverage of a territory whose effective rule is the AND of `effective_rules` (its
    ancestors' rules and its own); None when it is not geographic."""
    rule = project({"all": [r for r in effective_rules if r]})
    if rule is None:
        return None
    country_values = _named_values(rule, "country", [])
    state_values = _named_values(rule, "state", [])
    if not country_values and not state_values:
        return None
    countries: set[str] = set()
    states: set[str] = set()
    # Each named country: whole (no state needed), or the named states within it.
    for country_value in country_values:
        code = places.country_code(country_value)
        if not code:
            continue
        if rules.evaluate(rule, {"country": country_value}):
            countries.add(code)
            continue
        for state_value in state_values:
            state = places.state_code(code, state_value)
            if state and rules.evaluate(rule, {"country": country_value, "state": state_value}):
                states.add(state)
    # States named with no country condition at all (a rule of states only).
    if not country_values:
        for state_value in state_values:
            state = places.state_code("", state_value)
            if state and rules.evaluate(rule, {"state": state_value}):
                states.add(state)
    if not countries and not states:
        return None
    states = {state for state in states if state.split("-", 1)[0] not in countries}
    return Coverage(frozenset(countries), frozenset(states))


@dataclass(frozen=True)
class TerritoryShape:
    id: int
    name: str
    parent_id: int | None
    level: int
    coverage: Coverage


def territory_shapes(territories) -> list[TerritoryShape]:
    """The geographic territories of a plan, from `territories.matching.TerritoryInfo`s
    (active ones only: an inactive territory matches nothing)."""
    by_id = {territory.id: territory for territory in territories}
    shapes = []
    for territory in territories:
        if not territory.is_active:
            continue
        chain, cursor, seen = [], territory, set()
        while cursor is not None and cursor.id not in seen:
            seen.add(cursor.id)
            chain.append(cursor.rule)
            cursor = by_id.get(cursor.parent_id)
        coverage = coverage_of(list(reversed(chain)))
        if coverage is not None:
            shapes.append(
                TerritoryShape(
                    id=territory.id,
                    name=territory.name,
                    parent_id=territory.parent_id,
                    level=territory.depth,
                    coverage=coverage,
                )
            )
    return sorted(shapes, key=lambda shape: (shape.level, shape.name.casefold(), shape.id))
