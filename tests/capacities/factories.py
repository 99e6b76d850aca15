import factory

from allocation.models import Allocation
from tests.factories import MemberFactory


class CapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "capacities.Capacity"

    member = factory.SubFactory(MemberFactory)
    workspace = factory.SelfAttribute("member.workspace")
    limit = 5
    period = "day"


def allocate_to(member, count, *, record_type="lead", at=None):
    """`count` current allocations owned by `member`, made now or at `at`."""
    for _ in range(count):
        allocation = Allocation.objects.create(
            workspace=member.workspace, status="assigned", owner=member, record_type=record_type
        )
        if at is not None:
            Allocation.objects.filter(pk=allocation.pk).update(created_at=at)
