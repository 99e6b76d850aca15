"""The pure decision rules of DESIGN.md section 4 (no database)."""

from collections import Counter

from allocation.engine import MemberState, RotationSnapshot, allocation_decide
from territories.matching import SlotInfo, TerritoryInfo
from territories.rules import evaluate


def territory(tid=1, distribution="round_robin", slots=(), **kw):
    return TerritoryInfo(id=tid, name=f"T{tid}", distribution=distribution, slots=slots, **kw)


def slots(*specs):
    return tuple(
        SlotInfo(member_id=m, role=role, weight=weight, position=i)
        for i, (m, role, weight) in enumerate(specs)
    )


def run(t, members, n, territories=(), default=None, fields=None):
    rotations, owners = {}, []
    by_id = {x.id: x for x in territories}
    for _ in range(n):
        d = allocation_decide(
            territory=t,
            territory_get=by_id.get,
            members=members,
            rotations=rotations,
            fields=fields or {},
            default_member_id=default,
            evaluate=evaluate,
        )
        rotations.update(d.rotation_updates)
        owners.append(d)
    return owners


def people(*ids, overrides=None):
    overrides = overrides or {}
    return {i: MemberState(id=i, **overrides.get(i, {})) for i in ids}


def test_round_robin_is_strict_slot_order():
    t = territory(slots=slots((3, "primary", 1), (1, "primary", 1), (2, "primary", 1)))
    owners = [d.owner_id for d in run(t, people(1, 2, 3), 7)]
    assert owners == [3, 1, 2, 3, 1, 2, 3]


def test_skipped_member_keeps_turn_order():
    t = territory(slots=slots((1, "primary", 1), (2, "primary", 1), (3, "primary", 1)))
    members = people(1, 2, 3, overrides={2: {"absent": True}})
    decisions = run(t, members, 4)
    assert [d.owner_id for d in decisions] == [1, 3, 1, 3]
    assert {"step": "eligibility", "member": 2, "outcome": "excluded",
            "detail": "primary: absent (time off)"} in decisions[0].trace  # fmt: skip


def test_weighted_three_to_one_exact_over_full_cycles():
    t = territory(distribution="weighted", slots=slots((1, "primary", 3), (2, "primary", 1)))
    owners = [d.owner_id for d in run(t, people(1, 2), 40)]
    for cycle in range(10):
        assert Counter(owners[cycle * 4 : cycle * 4 + 4]) == {1: 3, 2: 1}
    assert owners[:4] == [1, 1, 2, 1]  # smooth: the light member is not starved to the end


def test_least_loaded_picks_lowest_ratio_then_oldest():
    t = territory(distribution="least_loaded", slots=slots((1, "primary", 1), (2, "primary", 1)))
    members = people(1, 2, overrides={1: {"load": 0.5}, 2: {"load": 0.2}})
    assert run(t, members, 1)[0].owner_id == 2


def test_eligibility_order_inactive_absent_rule_capacity():
    rule = {"field": "language", "op": "in", "value_from": "member.languages"}
    t = territory(
        slots=slots(*((i, "primary", 1) for i in (1, 2, 3, 4))),
        member_rule=rule,
    )
    overrides = {
        1: {"is_active": False},
        2: {"absent": True},
        3: {"attributes": {"languages": ["de"]}},
        4: {"attributes": {"languages": ["fr"]}, "capacity_full": "day capacity 5/5"},
    }
    members = people(1, 2, 3, 4, overrides=overrides)
    d = run(t, members, 1, fields={"language": "fr"})[0]
    details = [s["detail"] for s in d.trace if s["step"] == "eligibility"]
    assert details[0] == "primary: inactive"
    assert details[1] == "primary: absent (time off)"
    assert details[3] == "primary: day capacity 5/5"
    assert d.status == "unassigned"


def test_backup_only_when_all_primaries_unavailable():
    t = territory(slots=slots((1, "primary", 1), (2, "primary", 1), (9, "backup", 1)))
    assert {d.owner_id for d in run(t, people(1, 2, 9, overrides={1: {"absent": True}}), 4)} == {2}
    gone = people(1, 2, 9, overrides={1: {"absent": True}, 2: {"is_active": False}})
    d = run(t, gone, 1)[0]
    assert (d.status, d.owner_id) == ("assigned", 9)


def test_overlays_never_own():
    t = territory(slots=slots((1, "overlay", 1), (2, "primary", 1)))
    decisions = run(t, people(1, 2), 3)
    assert {d.owner_id for d in decisions} == {2}
    assert decisions[0].overlays == [1]
    only_overlay = territory(slots=slots((1, "overlay", 1)))
    assert run(only_overlay, people(1), 1)[0].status == "unassigned"


def test_fallback_chain_member_then_territory_then_default_then_unassigned():
    empty = people(1, 5, 6, 7, overrides={1: {"absent": True}})
    second = territory(tid=2, slots=slots((6, "primary", 1)))
    first = territory(
        tid=1, slots=slots((1, "primary", 1)), fallback_member_id=5, fallback_territory_id=2
    )
    d = run(first, empty, 1, territories=[second], default=7)[0]
    assert (d.status, d.owner_id, d.territory_id) == ("fallback", 5, 1)

    no_fb_member = people(1, 5, 6, 7, overrides={1: {"absent": True}, 5: {"capacity_full": "full"}})
    d = run(first, no_fb_member, 1, territories=[second], default=7)[0]
    assert (d.status, d.owner_id, d.territory_id) == ("fallback", 6, 2)
    assert any(s["outcome"] == "skipped" and s["member"] == 5 for s in d.trace if "member" in s)

    no_second = {**no_fb_member, 6: MemberState(id=6, is_active=False)}
    d = run(first, no_second, 1, territories=[second], default=7)[0]
    assert (d.status, d.owner_id) == ("fallback", 7)
    assert d.trace[-1]["detail"] == "workspace default member"

    d = run(first, no_second, 1, territories=[second], default=None)[0]
    assert (d.status, d.owner_id) == ("unassigned", None)
    assert d.trace[-1]["step"] == "unassigned"


def test_fallback_territory_cycle_stops():
    a = territory(tid=1, slots=slots((1, "primary", 1)), fallback_territory_id=2)
    b = territory(tid=2, slots=slots((2, "primary", 1)), fallback_territory_id=1)
    d = run(
        a, people(1, 2, overrides={1: {"absent": True}, 2: {"absent": True}}), 1, territories=[a, b]
    )[0]
    assert d.status == "unassigned"


def test_rotation_pointer_only_moves_for_choosing_territory():
    t = territory(slots=slots((1, "primary", 1), (2, "primary", 1)))
    d = allocation_decide(
        territory=t, territory_get=lambda _: None, members=people(1, 2),
        rotations={1: RotationSnapshot(pointer_member_id=1)}, fields={},
        default_member_id=None, evaluate=evaluate,
    )  # fmt: skip
    assert d.owner_id == 2
    assert d.rotation_updates == {1: RotationSnapshot(2, {})}
