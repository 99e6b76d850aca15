"""A small book whose every figure is computed by hand in `test_metrics.py`.

Q1 2026 (fiscal year from January). Plan: West (geographic) → CA, NV; East (industry).
Sol sits on West as an overlay with 20 % credit; Nia is a new rep ramping from 10 Feb.

deal  account    territory now  closed in  owner  state  amount  created     closed/close
d1    acc_ca     CA             CA         ada    won    1000    2026-01-01  2026-01-11
d2    acc_ca     CA             CA         ada    won    3000    2026-01-01  2026-01-31
d3    acc_ca     CA             CA         ada    lost    500    2026-01-15  2026-02-10
d4    acc_ca     CA             -          ada    open   2000    2026-01-20  2026-03-15
d5    acc_ca     CA             -          ada    open   9999    2026-01-20  2026-05-01 (after)
d6    acc_ca     CA             CA         ada    won    7777    2025-11-01  2025-12-20 (before)
d7    acc_nv     NV             NV         ben    won    2000    2026-02-01  2026-02-21
d8    acc_nv     NV             -          ben    open   1000    2026-02-01  2026-02-28
d9    acc_moved  East           NV         ben    won    4000    2026-02-19  2026-03-01
d10   acc_moved  East           -          ben    open    500    2026-03-01  2026-03-31
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from allocation.models import Allocation
from tests.allocation.factories import AllocationFactory
from tests.analytics.factories import MemberRampFactory, QuotaFactory
from tests.book.factories import AccountFactory, OpportunityFactory
from tests.factories import MemberFactory, TerritoryFactory, TerritorySlotFactory

Q1 = {"period_start": "2026-01-01", "period_end": "2026-03-31"}


@dataclass
class Book:
    west: object
    ca: object
    nv: object
    east: object
    ada: object
    ben: object
    sol: object
    nia: object


def _deal(account, owner, state, amount, created, closed, closed_in=None):
    return OpportunityFactory(
        workspace=account.workspace,
        account=account,
        owner=owner,
        amount=amount,
        created_date=date.fromisoformat(created),
        close_date=date.fromisoformat(closed),
        closed_date=date.fromisoformat(closed) if state != "open" else None,
        is_closed=state != "open",
        is_won=state == "won",
        closed_territory=closed_in,
    )


@pytest.fixture
def book(workspace):
    west = TerritoryFactory(workspace=workspace, name="West", kind="geographic")
    ca = TerritoryFactory(workspace=workspace, name="CA", kind="geographic", parent=west)
    nv = TerritoryFactory(workspace=workspace, name="NV", kind="geographic", parent=west)
    east = TerritoryFactory(workspace=workspace, name="East", kind="industry")
    ada = MemberFactory(workspace=workspace, name="Ada")
    ben = MemberFactory(workspace=workspace, name="Ben")
    sol = MemberFactory(workspace=workspace, name="Sol")
    nia = MemberFactory(workspace=workspace, name="Nia")
    TerritorySlotFactory(territory=ca, member=ada)
    TerritorySlotFactory(territory=nv, member=ben)
    TerritorySlotFactory(territory=east, member=ben)
    TerritorySlotFactory(territory=west, member=sol, role="overlay", credit_percent=20)
    acc_ca = AccountFactory(workspace=workspace, territory=ca, owner=ada)
    acc_nv = AccountFactory(workspace=workspace, territory=nv, owner=ben)
    acc_moved = AccountFactory(workspace=workspace, territory=east, owner=ben)
    AccountFactory(workspace=workspace, territory=east, owner=ben)
    _deal(acc_ca, ada, "won", 1000, "2026-01-01", "2026-01-11", ca)
    _deal(acc_ca, ada, "won", 3000, "2026-01-01", "2026-01-31", ca)
    _deal(acc_ca, ada, "lost", 500, "2026-01-15", "2026-02-10", ca)
    _deal(acc_ca, ada, "open", 2000, "2026-01-20", "2026-03-15")
    _deal(acc_ca, ada, "open", 9999, "2026-01-20", "2026-05-01")
    _deal(acc_ca, ada, "won", 7777, "2025-11-01", "2025-12-20", ca)
    _deal(acc_nv, ben, "won", 2000, "2026-02-01", "2026-02-21", nv)
    _deal(acc_nv, ben, "open", 1000, "2026-02-01", "2026-02-28")
    _deal(acc_moved, ben, "won", 4000, "2026-02-19", "2026-03-01", nv)
    _deal(acc_moved, ben, "open", 500, "2026-03-01", "2026-03-31")
    QuotaFactory(
        workspace=workspace, territory=ca, period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31), amount=8000,
    )  # fmt: skip
    QuotaFactory(
        workspace=workspace, territory=nv, period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31), amount=24000,
    )  # fmt: skip
    QuotaFactory(
        workspace=workspace, member=ada, period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31), amount=10000,
    )  # fmt: skip
    QuotaFactory(
        workspace=workspace, member=nia, period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31), amount=9000,
    )  # fmt: skip
    MemberRampFactory(member=nia, start_date=date(2026, 2, 10), month_percentages=[50])
    in_q1 = datetime(2026, 2, 1, 12, tzinfo=UTC)
    for created in (in_q1, in_q1, datetime(2026, 4, 2, tzinfo=UTC)):
        entry = AllocationFactory(workspace=workspace, owner=ada, territory=ca)
        Allocation.objects.filter(pk=entry.pk).update(created_at=created)
    return Book(west, ca, nv, east, ada, ben, sol, nia)
