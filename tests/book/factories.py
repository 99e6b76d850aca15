import factory

from book.models import Account, Opportunity
from tests.factories import WorkspaceFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    workspace = factory.SubFactory(WorkspaceFactory)
    crm_id = factory.Sequence(lambda n: f"ACC{n:06d}")
    name = factory.Sequence(lambda n: f"Account {n}")
    fields = factory.LazyFunction(lambda: {"country": "US"})


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    workspace = factory.SelfAttribute("account.workspace")
    crm_id = factory.Sequence(lambda n: f"OPP{n:06d}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = 1000
