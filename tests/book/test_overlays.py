"""Overlays of moved accounts (a plan transition's overlap): one row per account and member,
the later `until` kept when the pair is overlaid again, expired rows dropped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from book import services
from book.models import AccountOverlay
from tests.book.factories import AccountFactory
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _untils(account):
    return {o.member_id: o.until for o in AccountOverlay.objects.filter(account=account)}


def test_a_pair_overlaid_again_keeps_the_later_until(workspace):
    account = AccountFactory(workspace=workspace)
    old, older = MemberFactory(workspace=workspace), MemberFactory(workspace=workspace)
    soon = timezone.now() + timedelta(days=10)
    later = soon + timedelta(days=20)

    added = services.account_overlays_add(
        workspace_id=workspace.pk,
        pairs=[(account.pk, old.pk), (account.pk, old.pk), (account.pk, older.pk)],
        until=later,
        reason="previous owner",
    )
    assert added == 2
    assert _untils(account) == {old.pk: later, older.pk: later}

    services.account_overlays_add(
        workspace_id=workspace.pk, pairs=[(account.pk, old.pk)], until=soon, reason="again"
    )
    assert _untils(account) == {old.pk: later, older.pk: later}

    latest = later + timedelta(days=5)
    services.account_overlays_add(
        workspace_id=workspace.pk, pairs=[(account.pk, older.pk)], until=latest, reason="again"
    )
    assert _untils(account) == {old.pk: later, older.pk: latest}
    row = AccountOverlay.objects.get(account=account, member=older)
    assert (row.workspace_id, row.reason) == (workspace.pk, "previous owner")

    assert services.account_overlays_expire(now=later + timedelta(seconds=1)) == 1
    assert _untils(account) == {older.pk: latest}
