import factory

from analytics.models import MemberRamp, Quota
from tests.factories import MemberFactory, WorkspaceFactory


class QuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quota

    workspace = factory.SubFactory(WorkspaceFactory)
    amount = 1000


class MemberRampFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberRamp

    member = factory.SubFactory(MemberFactory)
    workspace = factory.SelfAttribute("member.workspace")
    month_percentages = factory.LazyFunction(lambda: [25, 50, 75])
