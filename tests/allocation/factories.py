"""Allocation history rows made directly, for tests that read history rather than allocate."""

import factory

from tests.factories import MemberFactory, WorkspaceFactory


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "allocation.Allocation"

    workspace = factory.SubFactory(WorkspaceFactory)
    status = "assigned"
    owner = factory.SubFactory(MemberFactory, workspace=factory.SelfAttribute("..workspace"))
    record_type = "lead"
    record_id = factory.Sequence(lambda n: f"00Q{n:06d}")
    record_fields = factory.LazyFunction(lambda: {"country": "US"})
    decision = factory.LazyFunction(
        lambda: [{"step": "territory", "territory": "North America", "reason": "country in [US]"}]
    )
