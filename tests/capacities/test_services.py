"""Capacity usage as the allocation path reads it: counts that stop at the limit."""

from datetime import timedelta

from django.utils import timezone

from capacities.services import capacity_usage_for_members, pipeline_snapshot_record
from tests.capacities.factories import CapacityFactory, allocate_to
from tests.factories import MemberFactory


def usage_of(member, *, up_to_limit):
    [usage] = capacity_usage_for_members(
        workspace=member.workspace, members=[member], up_to_limit=up_to_limit
    )[member.pk]
    return usage.used, usage.remaining


def test_counts_up_to_the_limit_are_exact_below_it(workspace):
    member = MemberFactory(workspace=workspace)
    CapacityFactory(member=member, limit=5)
    allocate_to(member, 3)
    assert usage_of(member, up_to_limit=True) == usage_of(member, up_to_limit=False) == (3, 2)


def test_a_member_over_a_lowered_limit_reads_full_without_counting_past_it(workspace):
    member = MemberFactory(workspace=workspace)
    capacity = CapacityFactory(member=member, limit=5)
    allocate_to(member, 4)
    capacity.limit = 2
    capacity.save()
    assert usage_of(member, up_to_limit=False) == (4, 0)
    assert usage_of(member, up_to_limit=True) == (2, 0)


def test_open_deal_capacity_counts_newer_allocations_up_to_what_the_snapshot_leaves(workspace):
    member = MemberFactory(workspace=workspace)
    CapacityFactory(member=member, limit=5, source="open_deals")
    pipeline_snapshot_record(
        workspace=workspace,
        member=member,
        open_deals=4,
        taken_at=timezone.now() - timedelta(hours=1),
    )
    allocate_to(member, 3)
    assert usage_of(member, up_to_limit=False) == (7, 0)
    assert usage_of(member, up_to_limit=True) == (5, 0)


def test_open_deal_capacities_of_several_members_read_the_latest_snapshots_in_one_query(
    workspace, django_assert_num_queries
):
    members = MemberFactory.create_batch(3, workspace=workspace)
    for deals, member in enumerate(members):
        CapacityFactory(member=member, limit=10, source="open_deals")
        for hours_ago in (5, 1):  # an older and the latest snapshot
            pipeline_snapshot_record(
                workspace=workspace,
                member=member,
                open_deals=deals + hours_ago,
                taken_at=timezone.now() - timedelta(hours=hours_ago),
            )
    with django_assert_num_queries(3):  # capacities, latest snapshots, counts
        usage = capacity_usage_for_members(workspace=workspace, members=members)
    assert [usage[m.pk][0].used for m in members] == [1, 2, 3]
