"""`matches` runs in linear time (RE2): patterns that make a backtracking engine explode are
answered at once wherever a rule is evaluated — the compiled matcher (match, simulate,
allocation), the reference evaluator, member eligibility rules and patterns read from member
attributes — and patterns RE2 cannot run are refused at save with the JSON pointer."""

import signal
import time
from contextlib import contextmanager

import pytest

from territories.matching import PlanData, ReferenceMatcher, TerritoryInfo
from territories.models import Territory
from territories.rules import MAX_MATCH_INPUT
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory, active_plan

TERRITORIES = "/api/v1/territories/"
MATCH = "/api/v1/territories/match/"
ALLOCATIONS = "/api/v1/allocations/"

# Each pattern with a text that is adversarial over its whole matched prefix (matching reads
# the first MAX_MATCH_INPUT characters): Python's `re` needs ~2^999 or ~n^5 steps on these.
LONG = 50_000
PATHOLOGICAL = [
    ("(a|a)+$", "a" * (MAX_MATCH_INPUT - 1) + "!" + "a" * LONG),
    ("((a+))+$", "a" * (MAX_MATCH_INPUT - 1) + "!" + "a" * LONG),
    (".*.*.*.*.*.*=", "a" * LONG),
    (r"\d*\d*\d*\d*\d*x", "1" * LONG),
]
BOUND = 1.0  # seconds: generous for RE2 (microseconds), hopeless for backtracking


@contextmanager
def answers_within(seconds: float):
    """Fails the test (instead of hanging the suite) if the block runs longer than `seconds`
    plus a margin; a wall-clock timer interrupts even a regular expression in progress."""

    def too_slow(signum, frame):
        raise TimeoutError(f"still running after {seconds + 2:.0f} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds + 2)
    started = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - started
    assert elapsed < seconds, f"took {elapsed:.2f} s"


@pytest.mark.parametrize("pattern, text", PATHOLOGICAL)
def test_match_endpoint_answers_pathological_patterns_fast(api, workspace, pattern, text):
    rule = {"field": "name", "op": "matches", "value": pattern}
    created = api.post(TERRITORIES, {"name": "Regex", "rule": rule}, format="json")
    assert created.status_code == 201, created.json()
    with answers_within(BOUND):
        response = api.post(MATCH, {"record": {"fields": {"name": text}}}, format="json")
    assert response.status_code == 200
    assert response.json()["winner"] is None


@pytest.mark.parametrize("pattern, text", PATHOLOGICAL)
def test_simulate_answers_pathological_patterns_fast(api, workspace, pattern, text):
    """Bulk evaluation (winners()) through the compiled closures, lists included."""
    TerritoryFactory(workspace=workspace, rule={"field": "name", "op": "matches", "value": pattern})
    records = [{"name": text}, {"name": [text, text]}]
    plan = active_plan(workspace)
    with answers_within(BOUND):
        response = api.post(
            f"/api/v1/territory-plans/{plan.pk}/simulate/", {"records": records}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["unmatched"] == 2


@pytest.mark.parametrize("pattern, text", PATHOLOGICAL)
def test_reference_evaluator_answers_pathological_patterns_fast(pattern, text):
    territory = TerritoryInfo(
        id=1, name="Regex", rule={"field": "name", "op": "matches", "value": pattern}
    )
    matcher = ReferenceMatcher(PlanData(plan_id=1, version=1, territories=(territory,)))
    with answers_within(BOUND):
        assert matcher.resolve({"name": text}).winner is None


@pytest.mark.parametrize("pattern, text", PATHOLOGICAL)
def test_member_eligibility_rules_answer_pathological_patterns_fast(api, workspace, pattern, text):
    """A literal pattern in member_rule, and a pattern a member attribute supplies
    (value_from): neither can stall an allocation."""
    literal = TerritoryFactory(
        workspace=workspace,
        rule={"field": "team", "op": "eq", "value": "literal"},
        member_rule={"field": "name", "op": "matches", "value": pattern},
    )
    TerritorySlotFactory(territory=literal, member=MemberFactory(workspace=workspace))
    from_member = TerritoryFactory(
        workspace=workspace,
        rule={"field": "team", "op": "eq", "value": "from_member"},
        member_rule={"field": "name", "op": "matches", "value_from": "member.pattern"},
    )
    TerritorySlotFactory(
        territory=from_member,
        member=MemberFactory(workspace=workspace, metadata={"pattern": pattern}),
    )
    for team in ("literal", "from_member"):
        body = {"record": {"type": "lead", "fields": {"team": team, "name": text}}}
        with answers_within(BOUND):
            response = api.post(ALLOCATIONS, {**body, "dry_run": True}, format="json")
        assert response.status_code in (200, 201), response.json()
        assert response.json()["status"] == "unassigned"
        assert "member eligibility rule not met" in str(response.json()["decision"])


def test_matches_keeps_its_semantics_case_insensitive_search_on_the_first_1000_chars(
    api, workspace
):
    TerritoryFactory(
        workspace=workspace,
        name="Acme",
        rule={"field": "domain", "op": "matches", "value": r"^acme\.(com|io)$"},
    )
    TerritoryFactory(
        workspace=workspace,
        name="Tail",
        rule={"field": "note", "op": "matches", "value": "needle"},
    )

    def winner(**fields):
        body = {"record": {"fields": fields}}
        found = api.post(MATCH, body, format="json").json()["winner"]
        return found and found["name"]

    assert winner(domain="ACME.io") == "Acme"
    assert winner(domain=["x.org", "acme.com"]) == "Acme"
    assert winner(domain="acme.com.evil") is None
    assert winner(note="x" * 990 + "NEEDLE") == "Tail"
    assert winner(note="x" * MAX_MATCH_INPUT + "needle") is None
    # Any JSON string, even one with a lone surrogate (no UTF-8 form), is matched, not a 500.
    raw = '{"record": {"fields": {"note": "needle \\ud800"}}}'
    response = api.post(MATCH, raw, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["winner"]["name"] == "Tail"


def test_matches_is_case_insensitive_beyond_ascii_and_allows_groups(api, workspace):
    TerritoryFactory(
        workspace=workspace,
        name="Schools",
        rule={"field": "name", "op": "matches", "value": r"^(?P<kind>école|school) (de|of) "},
    )
    body = {"record": {"fields": {"name": "ÉCOLE DE Paris"}}}
    assert api.post(MATCH, body, format="json").json()["winner"]["name"] == "Schools"
    body = {"record": {"fields": {"name": "Ecole de Paris"}}}
    assert api.post(MATCH, body, format="json").json()["winner"] is None


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?P<x>a)(?P=x)", r"foo(?=bar)", r"(?<!x)y", r"a{1001}"],
)
def test_a_pattern_re2_cannot_run_is_400_with_the_pointer_and_not_stored(api, pattern):
    rule = {
        "all": [
            {"field": "country", "op": "eq", "value": "US"},
            {"field": "state", "op": "eq", "value": "CA"},
            {"field": "domain", "op": "matches", "value": pattern},
        ]
    }
    response = api.post(TERRITORIES, {"name": "Bad", "rule": rule}, format="json")
    assert response.status_code == 400
    [error] = response.json()["rule"]
    assert error["path"] == "/all/2/value"
    assert error["message"].startswith("invalid regular expression")
    member_rule = {"not": {"field": "email", "op": "matches", "value": pattern}}
    response = api.post(TERRITORIES, {"name": "Bad", "member_rule": member_rule}, format="json")
    assert response.status_code == 400
    assert response.json()["member_rule"][0]["path"] == "/not/value"
    assert not Territory.objects.exists()


def test_a_member_attribute_re2_cannot_run_matches_nothing(api, workspace):
    """Member metadata is free text: a backreference there is no pattern, not a 500."""
    territory = TerritoryFactory(
        workspace=workspace,
        member_rule={"field": "name", "op": "matches", "value_from": "member.pattern"},
    )
    TerritorySlotFactory(
        territory=territory,
        member=MemberFactory(workspace=workspace, metadata={"pattern": r"(a)\1"}),
    )
    body = {"record": {"type": "lead", "fields": {"name": "aa"}}, "dry_run": True}
    response = api.post(ALLOCATIONS, body, format="json")
    assert response.status_code in (200, 201)
    assert response.json()["status"] == "unassigned"
