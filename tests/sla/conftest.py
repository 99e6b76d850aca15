from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.events import event_published
from sla.models import SlaPolicy
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

LEAD = {"record": {"type": "lead", "id": "00Q1", "crm": "", "fields": {"country": "US"}}}


@pytest.fixture
def events():
    """Domain events published during the test: (type, data, member ids)."""
    seen = []

    def receiver(sender, *, workspace, event_type, data, members, **kwargs):
        seen.append((event_type, data, [getattr(m, "pk", m) for m in members]))

    event_published.connect(receiver, weak=False)
    yield seen
    event_published.disconnect(receiver)


class Team:
    """A US territory with three reps in strict rotation, a manager over them, and an SLA
    policy of 60 working minutes (round the clock: no schedule) made an hour ago."""

    def __init__(self, workspace, *, on_breach="reassign", max_breaches=2, reps=3):
        self.workspace = workspace
        self.manager = MemberFactory(workspace=workspace, name="Mona Manager")
        self.territory = TerritoryFactory(
            workspace=workspace,
            name="US",
            rule={"field": "country", "op": "eq", "value": "US"},
        )
        self.reps = []
        for position in range(reps):
            rep = MemberFactory(workspace=workspace, name=f"Rep {'ABCDEFGH'[position]}",
                                manager=self.manager)  # fmt: skip
            TerritorySlotFactory(territory=self.territory, member=rep, position=position)
            self.reps.append(rep)
        self.policy = SlaPolicy.objects.create(
            workspace=workspace,
            name="Leads in an hour",
            territory=self.territory,
            respond_within_minutes=60,
            remind_at_percent=50,
            on_breach=on_breach,
            max_breaches=max_breaches,
        )
        SlaPolicy.objects.filter(pk=self.policy.pk).update(
            created_at=timezone.now() - timedelta(days=1)
        )
        self.policy.refresh_from_db()


@pytest.fixture
def team(workspace):
    return Team(workspace)
