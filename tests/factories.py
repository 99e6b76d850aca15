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


class TerritoryPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.TerritoryPlan"

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    status = "draft"


def active_plan(workspace):
    from territories.services import plan_ensure_active

    return plan_ensure_active(workspace=workspace)


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.Territory"

    workspace = factory.SubFactory(WorkspaceFactory)
    plan = factory.LazyAttribute(lambda t: active_plan(t.workspace))
    name = factory.Sequence(lambda n: f"Territory {n}")


class TerritorySlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.TerritorySlot"

    territory = factory.SubFactory(TerritoryFactory)
    workspace = factory.SelfAttribute("territory.workspace")
    member = factory.SubFactory(MemberFactory, workspace=factory.SelfAttribute("..workspace"))
    role = "primary"


class AccountLockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.AccountLock"

    territory = factory.SubFactory(TerritoryFactory)
    workspace = factory.SelfAttribute("territory.workspace")
    account = factory.Sequence(lambda n: f"account{n}.example")
