import factory

from tests.factories import MemberFactory


class CapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "capacities.Capacity"

    member = factory.SubFactory(MemberFactory)
    workspace = factory.SelfAttribute("member.workspace")
    limit = 5
    period = "day"
