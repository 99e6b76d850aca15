"""Factories shared by every app's tests."""

import factory
from django.contrib.auth import get_user_model

from members.models import Absence, Member
from revorg import services
from revorg.models import Role, Workspace, WorkspaceMembership


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    slug = factory.Sequence(lambda n: f"ws-{n}")
    name = factory.Sequence(lambda n: f"Workspace {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkspaceMembership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Rep {n}")
    email = factory.LazyAttribute(lambda m: f"{m.name.lower().replace(' ', '.')}@example.com")
    timezone = "UTC"
    metadata = factory.LazyFunction(lambda: {"languages": ["en"]})


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    member = factory.SubFactory(MemberFactory)
    workspace = factory.SelfAttribute("member.workspace")
    starts_at = factory.Faker("past_datetime", tzinfo=__import__("datetime").UTC)
    ends_at = factory.Faker("future_datetime", tzinfo=__import__("datetime").UTC)


def api_key_for(workspace, scopes="read,write,allocate", name="tests") -> str:
    return services.api_key_create(workspace=workspace, name=name, scopes=scopes).raw_key
