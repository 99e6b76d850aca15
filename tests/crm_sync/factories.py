import factory

from crm_sync.crypto import credentials_encrypt
from crm_sync.models import CrmConnection
from tests.factories import WorkspaceFactory


class CrmConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrmConnection

    workspace = factory.SubFactory(WorkspaceFactory)
    provider = "hubspot"
    settings = factory.LazyFunction(dict)
    credentials_encrypted = factory.LazyFunction(
        lambda: credentials_encrypt(credentials={"access_token": "pat-secret-token"})
    )


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "allocation.Allocation"

    workspace = factory.SubFactory(WorkspaceFactory)
    status = "assigned"
    record_type = "contact"
    record_id = factory.Sequence(lambda n: f"{1000 + n}")
    record_crm = "hubspot"
